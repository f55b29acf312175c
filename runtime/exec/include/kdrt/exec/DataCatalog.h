//===- DataCatalog.h - The plan's datasets, loaded on demand ----*- C++ -*-===//
//
// Resolves a (dataset, split) reference of a plan to images in memory: file
// splits are read from the source, slices and few-shot subsets are cut from
// their parent, external splits read their own source; every split is
// conformed to the dataset's declared image size. Loaded splits are kept,
// so a split used by training and evaluation is read once. Also builds the
// batch pipeline that feeds a graph's inputs.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_EXEC_DATACATALOG_H
#define KDRT_EXEC_DATACATALOG_H

#include "kdrt/data/BatchPipeline.h"
#include "kdrt/plan/PlanFormat.h"

#include <map>
#include <memory>
#include <string>

namespace kdrt::exec {

/// The pipeline options that turn `dataset` batches into `graph` inputs:
/// one view per image input (its own resize), the split's augmentation,
/// normalisation. Throws data::DataError for an inconsistent input list.
data::BatchPipelineOptions
pipelineOptions(const plan::DatasetSpec &dataset, const plan::SplitSpec &split,
                const plan::GraphSpec &graph, int64_t batch, uint64_t seed,
                bool shuffle, bool augment);

class DataCatalog {
public:
  /// Relative dataset paths are resolved against `baseDirectory` (the plan
  /// file's directory).
  DataCatalog(const plan::Plan &plan, std::string baseDirectory)
      : plan(plan), base(std::move(baseDirectory)) {}

  /// Loads (once) and returns the split; throws data::DataError.
  std::shared_ptr<const data::ImageDataset> load(const plan::DataRef &ref);

  const plan::DatasetSpec &dataset(const std::string &name) const;
  const plan::SplitSpec &split(const plan::DataRef &ref) const;
  /// A dataset path as the loaders open it: absolute, or relative to the
  /// base directory.
  std::string resolve(const std::string &path) const;

private:
  data::ImageDataset loadSource(const std::string &kind,
                                const std::string &root,
                                const std::string &file,
                                const plan::DatasetSpec &dataset) const;

  const plan::Plan &plan;
  std::string base;
  std::map<std::pair<std::string, std::string>,
           std::shared_ptr<const data::ImageDataset>>
      loaded;
};

} // namespace kdrt::exec

#endif // KDRT_EXEC_DATACATALOG_H
