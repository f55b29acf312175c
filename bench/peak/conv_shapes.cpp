//===- conv_shapes.cpp - oneDNN's convolutions on the recipe's shapes -----===//
//
// How fast oneDNN runs the forward convolutions of the hinton recipe's
// frozen teacher and of its student, one shape at a time, with the direct
// algorithm kdc uses and with Winograd (F(4x4, 3x3), which oneDNN offers for
// 3x3 stride-1 convolutions): the measurement behind docs/bench.md's account
// of where the distillation step's time goes and which levers are left.
//
// Each convolution runs as the runtime runs it: forward inference, fp32,
// channels-last input and output in memory, the weights reordered once into
// the primitive's layout. When the primitive wants another activation layout
// (Winograd wants a blocked one), the reorders in and out are part of its
// time, since a step would pay them too.
//
//   conv_shapes [--threads N] [--batch B] [--reps R] [--peak GFLOPS] [--json]
//               [--shape GROUP/NAME:C,O,HW,K,STRIDE[,xCOUNT]]...
//
// Without --shape, the recipe's shapes (teacher: models/resnet.kd's
// TeacherResNet, student: models/student.kd's Student, on 1x28x28 images).
// A COUNT repeats a shape that a model has several times (it multiplies
// the time and the FLOPs in the group's total). --peak (the GFLOP/s that
// fma_peak measured) adds each figure's share of it.
//
// Prints a table, or with --json one JSON object: per shape and algorithm
// ms per batch, GFLOP/s and oneDNN's implementation (or "unavailable"), and
// per group the total of the direct algorithm and of the faster algorithm
// of each shape.
//
//===----------------------------------------------------------------------===//

#include <dnnl.hpp>
#ifdef _OPENMP
#include <omp.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace {

using dnnl::algorithm;
using dnnl::memory;
using Tag = memory::format_tag;
using Type = memory::data_type;

struct Shape {
  std::string group, name;
  long in, out, hw, kernel, stride, count = 1;
  long outHw() const {
    long pad = kernel / 2;
    return (hw + 2 * pad - kernel) / stride + 1;
  }
  /// 2 x multiply-adds of one image, once.
  double flops() const {
    return 2.0 * out * outHw() * outHw() * in * kernel * kernel;
  }
};

struct Timing {
  bool available = false;
  double ms = 0;      // per batch, one instance of the shape
  std::string impl;
};

[[noreturn]] void usage(const char *message) {
  std::fprintf(stderr,
               "conv_shapes: %s\nusage: conv_shapes [--threads N] [--batch B] "
               "[--reps R] [--peak GFLOPS] [--json] "
               "[--shape GROUP/NAME:C,O,HW,K,STRIDE[,xCOUNT]]...\n",
               message);
  std::exit(2);
}

long positive(const char *flag, const char *text) {
  char *end = nullptr;
  long value = std::strtol(text, &end, 10);
  if (!*text || *end || value <= 0)
    usage((std::string(flag) + " wants a positive integer, not '" + text +
           "'").c_str());
  return value;
}

Shape parseShape(const std::string &spec) {
  size_t slash = spec.find('/'), colon = spec.find(':');
  if (slash == std::string::npos || colon == std::string::npos ||
      slash > colon)
    usage(("--shape wants GROUP/NAME:C,O,HW,K,STRIDE[,xCOUNT], not '" + spec +
           "'").c_str());
  Shape s;
  s.group = spec.substr(0, slash);
  s.name = spec.substr(slash + 1, colon - slash - 1);
  std::vector<std::string> fields;
  std::string rest = spec.substr(colon + 1);
  for (size_t start = 0;;) {
    size_t comma = rest.find(',', start);
    fields.push_back(rest.substr(start, comma - start));
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  if (fields.size() == 6 && !fields[5].empty() && fields[5][0] == 'x')
    s.count = positive("--shape count", fields[5].c_str() + 1);
  else if (fields.size() != 5)
    usage(("--shape wants five numbers and an optional xCOUNT, not '" + spec +
           "'").c_str());
  s.in = positive("--shape C", fields[0].c_str());
  s.out = positive("--shape O", fields[1].c_str());
  s.hw = positive("--shape HW", fields[2].c_str());
  s.kernel = positive("--shape K", fields[3].c_str());
  s.stride = positive("--shape STRIDE", fields[4].c_str());
  if (s.kernel > s.hw)
    usage(("--shape " + spec + ": the kernel is larger than the image")
              .c_str());
  return s;
}

/// The hinton recipe's forward convolutions (see the models' comments for
/// the shapes): the teacher's stem, its three BasicBlock stages (the first
/// keeps 32 channels at 28x28; the others halve the image with a strided 3x3
/// and a strided 1x1 projection), and the student's three convolutions.
std::vector<Shape> recipeShapes() {
  const char *specs[] = {
      "teacher/stem:1,32,28,3,1",        "teacher/l1 3x3:32,32,28,3,1,x2",
      "teacher/l2 3x3 s2:32,64,28,3,2",  "teacher/l2 1x1 s2:32,64,28,1,2",
      "teacher/l2 3x3:64,64,14,3,1",     "teacher/l3 3x3 s2:64,128,14,3,2",
      "teacher/l3 1x1 s2:64,128,14,1,2", "teacher/l3 3x3:128,128,7,3,1",
      "student/l1:1,24,28,3,1",          "student/l2:24,48,14,3,1",
      "student/l3:48,96,7,3,1",
  };
  std::vector<Shape> shapes;
  for (const char *spec : specs)
    shapes.push_back(parseShape(spec));
  return shapes;
}

void fill(memory &m, int salt) {
  auto *data = static_cast<float *>(m.get_data_handle());
  size_t n = m.get_desc().get_size() / sizeof(float);
  for (size_t i = 0; i < n; ++i)
    data[i] = float(long(i * 2654435761u + salt) % 1000) * 1e-3f - 0.5f;
}

Timing timeShape(dnnl::engine &engine, dnnl::stream &stream,
                 const Shape &s, algorithm alg, long batch, int reps) {
  long pad = s.kernel / 2;
  memory::dims src{batch, s.in, s.hw, s.hw},
      weights{s.out, s.in, s.kernel, s.kernel},
      dst{batch, s.out, s.outHw(), s.outHw()};
  dnnl::convolution_forward::desc desc(
      dnnl::prop_kind::forward_inference, alg,
      memory::desc(src, Type::f32, Tag::any),
      memory::desc(weights, Type::f32, Tag::any),
      memory::desc(dst, Type::f32, Tag::any), {s.stride, s.stride},
      {pad, pad}, {pad, pad});
  dnnl::convolution_forward::primitive_desc pd;
  Timing t;
  try {
    pd = dnnl::convolution_forward::primitive_desc(desc, engine);
  } catch (const dnnl::error &) {
    return t; // oneDNN has no implementation of this algorithm here
  }
  memory userSrc({src, Type::f32, Tag::nhwc}, engine),
      userDst({dst, Type::f32, Tag::nhwc}, engine),
      userWeights({weights, Type::f32, Tag::oihw}, engine);
  fill(userSrc, 1);
  fill(userWeights, 2);
  memory primWeights(pd.weights_desc(), engine);
  dnnl::reorder(userWeights, primWeights)
      .execute(stream, userWeights, primWeights);
  bool reorderSrc = pd.src_desc() != userSrc.get_desc();
  bool reorderDst = pd.dst_desc() != userDst.get_desc();
  memory primSrc = reorderSrc ? memory(pd.src_desc(), engine) : userSrc;
  memory primDst = reorderDst ? memory(pd.dst_desc(), engine) : userDst;
  dnnl::convolution_forward conv(pd);
  std::optional<dnnl::reorder> in, out;
  if (reorderSrc)
    in.emplace(userSrc, primSrc);
  if (reorderDst)
    out.emplace(primDst, userDst);
  auto once = [&] {
    if (in)
      in->execute(stream, userSrc, primSrc);
    conv.execute(stream, {{DNNL_ARG_SRC, primSrc},
                          {DNNL_ARG_WEIGHTS, primWeights},
                          {DNNL_ARG_DST, primDst}});
    if (out)
      out->execute(stream, primDst, userDst);
    stream.wait();
  };
  for (int i = 0; i < 3; ++i)
    once();
  // The best of three timed blocks: the machine's neighbours only ever add.
  double best = 1e300;
  for (int block = 0; block < 3; ++block) {
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i)
      once();
    std::chrono::duration<double, std::milli> took =
        std::chrono::steady_clock::now() - start;
    best = std::min(best, took.count() / reps);
  }
  t.available = true;
  t.ms = best;
  t.impl = pd.impl_info_str();
  return t;
}

double gflops(double flopsPerImage, long batch, double ms) {
  return flopsPerImage * batch / (ms * 1e6);
}

} // namespace

int main(int argc, char **argv) {
  long threads = 0, batch = 128, reps = 20;
  double peak = 0;
  bool json = false;
  std::vector<Shape> shapes;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> const char * {
      if (i + 1 >= argc)
        usage((arg + " wants a value").c_str());
      return argv[++i];
    };
    if (arg == "--threads")
      threads = positive("--threads", value());
    else if (arg == "--batch")
      batch = positive("--batch", value());
    else if (arg == "--reps")
      reps = positive("--reps", value());
    else if (arg == "--peak") {
      const char *text = value();
      char *end = nullptr;
      peak = std::strtod(text, &end);
      if (!*text || *end || !(peak > 0))
        usage("--peak wants a positive number of GFLOP/s");
    } else if (arg == "--json")
      json = true;
    else if (arg == "--shape")
      shapes.push_back(parseShape(value()));
    else
      usage(("unknown argument '" + arg + "'").c_str());
  }
  if (shapes.empty())
    shapes = recipeShapes();
#ifdef _OPENMP
  if (threads > 0)
    omp_set_num_threads(int(threads));
  int threadCount = omp_get_max_threads();
#else
  int threadCount = 1; // oneDNN built without OpenMP: sequential here
#endif

  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const algorithm algs[] = {algorithm::convolution_direct,
                            algorithm::convolution_winograd};
  const char *algNames[] = {"direct", "winograd"};

  struct Total {
    double flops = 0, directMs = 0, bestMs = 0;
  };
  std::vector<std::string> groupOrder;
  std::map<std::string, Total> totals;
  std::string rows;
  auto share = [&](double g) {
    char buf[32];
    std::snprintf(buf, sizeof buf, peak > 0 ? "%.1f%%" : "", 100 * g / peak);
    return std::string(buf);
  };

  if (!json)
    std::printf("| shape | C -> O, HxW, k, stride | algorithm | ms/batch | "
                "GFLOP/s |%s oneDNN |\n|---|---|---|---|---|%s---|\n",
                peak > 0 ? " of peak |" : "", peak > 0 ? "---|" : "");
  for (const Shape &s : shapes) {
    if (!totals.count(s.group))
      groupOrder.push_back(s.group);
    Total &total = totals[s.group];
    total.flops += s.flops() * s.count;
    double best = 1e300;
    for (int a = 0; a < 2; ++a) {
      Timing t = timeShape(engine, stream, s, algs[a], batch, int(reps));
      if (t.available)
        best = std::min(best, t.ms);
      if (a == 0)
        total.directMs += t.ms * s.count;
      double g = t.available ? gflops(s.flops(), batch, t.ms) : 0;
      char line[512];
      if (json) {
        std::snprintf(line, sizeof line,
                      "%s{\"group\": \"%s\", \"name\": \"%s\", \"in\": %ld, "
                      "\"out\": %ld, \"hw\": %ld, \"kernel\": %ld, "
                      "\"stride\": %ld, \"count\": %ld, \"algorithm\": "
                      "\"%s\", \"available\": %s, \"ms\": %.4f, "
                      "\"gflops\": %.1f, \"impl\": \"%s\"}",
                      rows.empty() ? "" : ", ", s.group.c_str(),
                      s.name.c_str(), s.in, s.out, s.hw, s.kernel, s.stride,
                      s.count, algNames[a], t.available ? "true" : "false",
                      t.ms, g, t.available ? t.impl.c_str() : "unavailable");
        rows += line;
      } else if (t.available) {
        std::string times =
            s.count > 1 ? " (x" + std::to_string(s.count) + ")" : "";
        std::string ofPeak = peak > 0 ? " " + share(g) + " |" : "";
        std::printf("| %s/%s%s | %ld -> %ld, %ldx%ld, %ld, %ld | %s | %.3f | "
                    "%.1f |%s %s |\n",
                    s.group.c_str(), s.name.c_str(), times.c_str(), s.in,
                    s.out, s.hw, s.hw, s.kernel, s.stride, algNames[a], t.ms,
                    g, ofPeak.c_str(), t.impl.c_str());
      } else {
        std::printf("| %s/%s | %ld -> %ld, %ldx%ld, %ld, %ld | %s | | |%s "
                    "unavailable |\n",
                    s.group.c_str(), s.name.c_str(), s.in, s.out, s.hw, s.hw,
                    s.kernel, s.stride, algNames[a], peak > 0 ? " |" : "");
      }
    }
    total.bestMs += best * s.count;
  }

  if (json) {
    std::printf("{\"threads\": %d, \"batch\": %ld, \"peak_gflops\": %.1f, "
                "\"shapes\": [%s], \"groups\": [",
                threadCount, batch, peak, rows.c_str());
    for (size_t i = 0; i < groupOrder.size(); ++i) {
      const Total &t = totals[groupOrder[i]];
      std::printf("%s{\"group\": \"%s\", \"flops_per_image\": %.0f, "
                  "\"direct_ms\": %.4f, \"best_ms\": %.4f, "
                  "\"direct_gflops\": %.1f, \"best_gflops\": %.1f}",
                  i ? ", " : "", groupOrder[i].c_str(), t.flops, t.directMs,
                  t.bestMs, gflops(t.flops, batch, t.directMs),
                  gflops(t.flops, batch, t.bestMs));
    }
    std::printf("]}\n");
    return 0;
  }
  std::printf("\n%d threads, batch %ld. Per group, every forward convolution "
              "of one image's pass:\n\n| group | MFLOP/image | direct ms/batch "
              "| direct GFLOP/s | best-of ms/batch | best-of GFLOP/s |\n"
              "|---|---|---|---|---|---|\n",
              threadCount, batch);
  for (const std::string &name : groupOrder) {
    const Total &t = totals[name];
    double d = gflops(t.flops, batch, t.directMs),
           b = gflops(t.flops, batch, t.bestMs);
    std::printf("| %s | %.1f | %.3f | %.1f%s | %.3f | %.1f%s |\n",
                name.c_str(), t.flops / 1e6, t.directMs, d,
                peak > 0 ? (" (" + share(d) + ")").c_str() : "", t.bestMs, b,
                peak > 0 ? (" (" + share(b) + ")").c_str() : "");
  }
  return 0;
}
