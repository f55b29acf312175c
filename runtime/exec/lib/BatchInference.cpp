//===- BatchInference.cpp - Inference on batches of prepared inputs -------===//
//
// The evaluation program of a model is its inference program. It is
// compiled for a fixed batch B; a request of n images runs it in slices of
// B with the short-batch mechanism for the rest (every buffer leading with B
// is re-shaped to lead with n), so batch 1 and batch 256 both run the one
// compiled program without padding.
//
//===----------------------------------------------------------------------===//

#include "SessionSupport.h"
#include "kdrt/exec/Session.h"

namespace kdrt::exec {

namespace {

/// The single image input of an inference program, or an error.
Status imageInputOf(const plan::EvaluationSpec &spec,
                    const plan::InputSpec *&image) {
  image = nullptr;
  for (const plan::InputSpec &input : spec.graph.inputs) {
    if (input.role != "image")
      continue;
    if (image)
      return Status::unimplemented(
          "inference of model '" + spec.model +
          "' on prepared inputs: its program reads more than one image "
          "view; classify image files instead");
    image = &input;
  }
  if (!image)
    return Status::invalidArgument("the inference program of model '" +
                                   spec.model + "' has no image input");
  return Status::success();
}

} // namespace

Status Session::inferenceShape(const std::string &model,
                               InferenceShape &shape) {
  return guarded([&]() -> Status {
    size_t index = 0;
    KDRT_RETURN_IF_ERROR(inferenceProgram(model, index));
    const plan::EvaluationSpec &spec = planSpec->evaluations[index];
    const plan::InputSpec *image = nullptr;
    KDRT_RETURN_IF_ERROR(imageInputOf(spec, image));
    // Session::bind checked the image buffer is [B, C, H, W] and the output
    // leads with B.
    const std::vector<int64_t> &dims =
        spec.graph.findBuffer(image->buffer)->shape;
    shape.channels = dims[1];
    shape.height = dims[2];
    shape.width = dims[3];
    shape.programBatch = spec.batch;
    shape.classes =
        spec.graph.findBuffer(spec.outputBuffer)->numElements() / spec.batch;
    return Status::success();
  });
}

Status Session::inferBatch(const std::string &model, const float *images,
                           int64_t count, std::vector<float> &logits) {
  InferenceShape shape;
  KDRT_RETURN_IF_ERROR(inferenceShape(model, shape));
  if (!images || count <= 0)
    return Status::invalidArgument(
        "infer: expected at least one image and a non-null input");
  return guarded([&]() -> Status {
    size_t index = 0;
    KDRT_RETURN_IF_ERROR(inferenceProgram(model, index));
    const plan::EvaluationSpec &spec = planSpec->evaluations[index];
    BoundGraph &graph = *evaluationGraphs[index];
    KDRT_RETURN_IF_ERROR(graph.allocate(*device));
    const int64_t perImage = shape.channels * shape.height * shape.width;
    logits.resize(size_t(count * shape.classes));
    std::vector<float> zeros;
    OpContext context{device.get(), 0};
    for (int64_t first = 0; first < count; first += spec.batch) {
      int64_t n = std::min(spec.batch, count - first);
      graph.setBatch(n);
      for (const plan::InputSpec &input : spec.graph.inputs) {
        Tensor &target = graph.buffer(input.buffer);
        if (input.role == "image") {
          KDRT_RETURN_IF_ERROR(device->copyIn(
              target.data(), images + first * perImage,
              size_t(n * perImage) * sizeof(float)));
          continue;
        }
        // Labels (or any other non-image input) do not affect the logits.
        zeros.assign(size_t(target.numElements()), 0.0f);
        KDRT_RETURN_IF_ERROR(device->copyIn(target.data(), zeros.data(),
                                            zeros.size() * sizeof(float)));
      }
      KDRT_RETURN_IF_ERROR(withContext(graph.run(context), "infer"));
      KDRT_RETURN_IF_ERROR(device->copyOut(
          logits.data() + first * shape.classes,
          graph.buffer(spec.outputBuffer).data(),
          size_t(n * shape.classes) * sizeof(float)));
    }
    return Status::success();
  });
}

} // namespace kdrt::exec
