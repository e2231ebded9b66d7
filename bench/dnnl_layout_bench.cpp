// dnnl_layout_bench: oneDNN convs of the CNN samples in NHWC against blocked activation layouts.
//
// Usage: dnnl_layout_bench [--quick] [--threads=2,1]
// For each conv layer of samples/cnn_mnist.json and samples/cnn_cifar.json (batch 32, the
// shapes below are read off the samples: 3x3 valid convs, 2x2 max pools) it times, per call
// (minimum over the timed calls, in microseconds):
//   - forward (inference, bias + relu post-op), backward-data and backward-weights with plain
//     NHWC activations and format_tag::any filters, which is what Kiln runs today;
//   - the same primitives with format_tag::any for every tensor (oneDNN's blocked choice);
//   - the reorders a blocked chain needs at its ends (an NHWC activation to the layout the
//     primitive picked and back) and the filter reorder Kiln runs inside every call;
//   - the 2x2 max pool between convs (forward and backward) in either layout.
// Then, per sample, the best case for a blocked chain against the boundary reorders it needs.
#include <omp.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

namespace dn = ::dnnl;
using Clock = std::chrono::steady_clock;
using tag = dn::memory::format_tag;
using dt = dn::memory::data_type;

/// One 3x3 "valid" convolution of a sample, NHWC, and whether a 2x2 max pool follows it.
struct Layer {
  const char *sample, *name;
  int64_t n, h, w, c, o;
  bool pool;
};

// samples/cnn_mnist.json: x [32,28,28,1]; c1 3x3x1x32, p1; c2 3x3x32x64, p2; c3 3x3x64x64.
// samples/cnn_cifar.json: x [32,32,32,3]; c1 3x3x3x32, p1; c2 3x3x32x64, p2; c3 3x3x64x64.
const Layer kLayers[] = {
    {"cnn_mnist", "c1", 32, 28, 28, 1, 32, true},  {"cnn_mnist", "c2", 32, 13, 13, 32, 64, true},
    {"cnn_mnist", "c3", 32, 5, 5, 64, 64, false},  {"cnn_cifar", "c1", 32, 32, 32, 3, 32, true},
    {"cnn_cifar", "c2", 32, 15, 15, 32, 64, true}, {"cnn_cifar", "c3", 32, 6, 6, 64, 64, false},
};

double budgetSeconds = 0.3;

/// Minimum microseconds per call of `fn` after a warm-up, over about budgetSeconds of calls.
template <typename Fn> double minMicros(Fn &&fn) {
  for (int i = 0; i < 5; ++i)
    fn();
  double best = 1e30;
  auto start = Clock::now();
  int calls = 0;
  while (calls < 20 ||
         std::chrono::duration<double>(Clock::now() - start).count() < budgetSeconds) {
    auto t0 = Clock::now();
    fn();
    best = std::min(best, std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    ++calls;
  }
  return best;
}

/// Busy CPU seconds of the whole host and of this process, to report how busy others kept it.
struct CpuSample {
  double all = -1, self = 0;
  Clock::time_point at = Clock::now();
};
CpuSample sampleCpu() {
  CpuSample s;
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  s.self = double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
  std::ifstream in("/proc/stat");
  std::string cpu;
  double f[8] = {};
  if (!(in >> cpu) || cpu != "cpu")
    return s;
  for (double &x : f)
    if (!(in >> x))
      return s;
  s.all = (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / double(sysconf(_SC_CLK_TCK));
  return s;
}
double otherCores(const CpuSample &a, const CpuSample &b) {
  double wall = std::chrono::duration<double>(b.at - a.at).count();
  if (a.all < 0 || b.all < 0 || wall <= 0)
    return -1;
  return std::max(0.0, ((b.all - a.all) - (b.self - a.self)) / wall);
}

/// A memory object of `md` filled with small random values.
dn::memory filled(const dn::memory::desc &md, const dn::engine &eng, std::mt19937 &rng) {
  dn::memory m(md, eng);
  std::uniform_real_distribution<float> u(-1, 1);
  auto *p = static_cast<float *>(m.get_data_handle());
  for (size_t i = 0; i < md.get_size() / sizeof(float); ++i)
    p[i] = u(rng);
  return m;
}

/// Microseconds of a reorder from `from` to `to` (0 if they are the same layout).
double reorderMicros(const dn::memory::desc &from, const dn::memory::desc &to,
                     const dn::engine &eng, dn::stream &s, std::mt19937 &rng) {
  if (from == to)
    return 0;
  dn::memory a = filled(from, eng, rng), b(to, eng);
  dn::reorder r(a, b);
  return minMicros([&] {
    r.execute(s, a, b);
    s.wait();
  });
}

/// Times of one layer: [0] plain activations (Kiln today), [1] blocked (format_tag::any).
struct LayerTimes {
  double fwd16c = 0; ///< forward with nChw16c activations forced (any picks NHWC here)
  double pool16c = 0, pooled16cOut = 0; ///< its pool in nChw16c; the pooled tensor to NHWC
  double dst16cOut = 0; ///< the nChw16c conv output to NHWC (a conv alone in nChw16c)
  double fwd[2], bwdData[2], bwdWeights[2], pool[2], poolBwd[2];
  double srcIn = 0, dstOut = 0, diffDstIn = 0, diffSrcOut = 0; ///< chain-end reorders
  double filterIn = 0, filterOut = 0; ///< Kiln's per-call filter reorders (fwd/bwd-data, bwd-w)
  std::string impl16c;
  std::string impl[2][3], layouts[2][3]; ///< fwd, bwd-data, bwd-weights: impl; src/wei/dst
};

/// oneDNN's name of a layout ("acdb" is NHWC, "aBcd16b" is nChw16c, "ABcd16b16a" a blocked
/// filter): dims outermost first, upper case where a dim is also blocked, then the inner blocks.
std::string layoutName(const dn::memory::desc &md) {
  const dnnl_memory_desc_t &d = md.data;
  if (d.format_kind != dnnl_blocked)
    return "?";
  const auto &b = d.format_desc.blocking;
  std::vector<int> order(size_t(d.ndims));
  for (int i = 0; i < d.ndims; ++i)
    order[size_t(i)] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](int x, int y) { return b.strides[x] > b.strides[y]; });
  std::string name;
  for (int i : order) {
    bool blockedDim = false;
    for (int k = 0; k < b.inner_nblks; ++k)
      blockedDim |= b.inner_idxs[k] == i;
    name += char((blockedDim ? 'A' : 'a') + i);
  }
  for (int k = 0; k < b.inner_nblks; ++k)
    name += std::to_string(b.inner_blks[k]) + char('a' + b.inner_idxs[k]);
  return name;
}

LayerTimes measure(const Layer &L, const dn::engine &eng, dn::stream &s, std::mt19937 &rng) {
  LayerTimes t{};
  int64_t oh = L.h - 2, ow = L.w - 2;
  dn::memory::dims src{L.n, L.c, L.h, L.w}, wei{L.o, L.c, 3, 3}, bias{L.o}, dst{L.n, L.o, oh, ow};
  dn::memory::dims strides{1, 1}, pad{0, 0};
  auto plain = [](const dn::memory::dims &d, tag f) { return dn::memory::desc(d, dt::f32, f); };
  dn::memory::desc srcNhwc = plain(src, tag::nhwc), dstNhwc = plain(dst, tag::nhwc),
                   weiHwio = plain(wei, tag::hwio), biasMd = plain(bias, tag::a);
  for (int blocked = 0; blocked < 2; ++blocked) {
    dn::memory::desc srcMd = blocked ? plain(src, tag::any) : srcNhwc;
    dn::memory::desc dstMd = blocked ? plain(dst, tag::any) : dstNhwc;
    dn::memory::desc weiAny = plain(wei, tag::any);
    dn::primitive_attr attr;
    dn::post_ops po;
    po.append_eltwise(1.0f, dn::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(po);
    // Forward, as Kiln's inference conv: bias and relu post-op.
    dn::convolution_forward::desc fd(dn::prop_kind::forward_inference,
                                     dn::algorithm::convolution_direct, srcMd, weiAny, biasMd,
                                     dstMd, strides, pad, pad);
    dn::convolution_forward::primitive_desc fpd(fd, attr, eng);
    dn::memory x = filled(fpd.src_desc(), eng, rng), w = filled(fpd.weights_desc(), eng, rng),
               b = filled(biasMd, eng, rng), y(fpd.dst_desc(), eng);
    dn::convolution_forward fwd(fpd);
    t.fwd[blocked] = minMicros([&] {
      fwd.execute(
          s, {{DNNL_ARG_SRC, x}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, b}, {DNNL_ARG_DST, y}});
      s.wait();
    });
    // Backward-data and backward-weights, with a training forward as their hint.
    dn::convolution_forward::desc td(dn::prop_kind::forward_training,
                                     dn::algorithm::convolution_direct, srcMd, weiAny, dstMd,
                                     strides, pad, pad);
    dn::convolution_forward::primitive_desc hint(td, eng);
    dn::convolution_backward_data::primitive_desc bdpd(
        dn::convolution_backward_data::desc(dn::algorithm::convolution_direct, srcMd, weiAny, dstMd,
                                            strides, pad, pad),
        eng, hint);
    dn::memory dy = filled(bdpd.diff_dst_desc(), eng, rng),
               wd = filled(bdpd.weights_desc(), eng, rng), dx(bdpd.diff_src_desc(), eng);
    dn::convolution_backward_data bwdD(bdpd);
    t.bwdData[blocked] = minMicros([&] {
      bwdD.execute(s, {{DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_WEIGHTS, wd}, {DNNL_ARG_DIFF_SRC, dx}});
      s.wait();
    });
    dn::convolution_backward_weights::primitive_desc bwpd(
        dn::convolution_backward_weights::desc(dn::algorithm::convolution_direct, srcMd, weiAny,
                                               dstMd, strides, pad, pad),
        eng, hint);
    dn::memory xs = filled(bwpd.src_desc(), eng, rng), dy2 = filled(bwpd.diff_dst_desc(), eng, rng),
               dw(bwpd.diff_weights_desc(), eng);
    dn::convolution_backward_weights bwdW(bwpd);
    t.bwdWeights[blocked] = minMicros([&] {
      bwdW.execute(s, {{DNNL_ARG_SRC, xs}, {DNNL_ARG_DIFF_DST, dy2}, {DNNL_ARG_DIFF_WEIGHTS, dw}});
      s.wait();
    });
    // The 2x2 max pool that follows, in the layout the conv wrote.
    if (L.pool) {
      dn::memory::dims pdst{L.n, L.o, oh / 2, ow / 2}, k{2, 2};
      dn::memory::desc pIn = fpd.dst_desc();
      dn::memory::desc pOut = blocked ? plain(pdst, tag::any) : plain(pdst, tag::nhwc);
      dn::pooling_forward::primitive_desc ppd(
          dn::pooling_forward::desc(dn::prop_kind::forward_inference, dn::algorithm::pooling_max,
                                    pIn, pOut, k, k, pad, pad),
          eng);
      dn::memory pi = filled(pIn, eng, rng), po_(ppd.dst_desc(), eng);
      dn::pooling_forward pool(ppd);
      t.pool[blocked] = minMicros([&] {
        pool.execute(s, {{DNNL_ARG_SRC, pi}, {DNNL_ARG_DST, po_}});
        s.wait();
      });
      // Training: forward with workspace, then backward (Kiln re-runs the forward inside its
      // max_pool2d_grad call, so both count).
      dn::pooling_forward::primitive_desc tpd(
          dn::pooling_forward::desc(dn::prop_kind::forward_training, dn::algorithm::pooling_max,
                                    pIn, pOut, k, k, pad, pad),
          eng);
      dn::pooling_backward::primitive_desc bpd(
          dn::pooling_backward::desc(dn::algorithm::pooling_max, pIn, tpd.dst_desc(), k, k, pad,
                                     pad),
          eng, tpd);
      dn::memory ws(tpd.workspace_desc(), eng), to(tpd.dst_desc(), eng),
          pdy = filled(bpd.diff_dst_desc(), eng, rng), pdx(bpd.diff_src_desc(), eng);
      dn::pooling_forward tf(tpd);
      dn::pooling_backward pb(bpd);
      t.poolBwd[blocked] = minMicros([&] {
        tf.execute(s, {{DNNL_ARG_SRC, pi}, {DNNL_ARG_DST, to}, {DNNL_ARG_WORKSPACE, ws}});
        pb.execute(s,
                   {{DNNL_ARG_DIFF_DST, pdy}, {DNNL_ARG_DIFF_SRC, pdx}, {DNNL_ARG_WORKSPACE, ws}});
        s.wait();
      });
    }
    t.impl[blocked][0] = fpd.impl_info_str();
    t.impl[blocked][1] = bdpd.impl_info_str();
    t.impl[blocked][2] = bwpd.impl_info_str();
    t.layouts[blocked][0] = layoutName(fpd.src_desc()) + "/" + layoutName(fpd.weights_desc()) +
                            "/" + layoutName(fpd.dst_desc());
    t.layouts[blocked][1] = layoutName(bdpd.diff_src_desc()) + "/" +
                            layoutName(bdpd.weights_desc()) + "/" +
                            layoutName(bdpd.diff_dst_desc());
    t.layouts[blocked][2] = layoutName(bwpd.src_desc()) + "/" +
                            layoutName(bwpd.diff_weights_desc()) + "/" +
                            layoutName(bwpd.diff_dst_desc());
    if (blocked) {
      t.srcIn = reorderMicros(srcNhwc, fpd.src_desc(), eng, s, rng);
      t.dstOut = reorderMicros(fpd.dst_desc(), dstNhwc, eng, s, rng);
      t.diffDstIn = reorderMicros(dstNhwc, bdpd.diff_dst_desc(), eng, s, rng);
      t.diffSrcOut = reorderMicros(bdpd.diff_src_desc(), srcNhwc, eng, s, rng);
    } else {
      t.filterIn = reorderMicros(weiHwio, fpd.weights_desc(), eng, s, rng);
      t.filterOut = reorderMicros(bwpd.diff_weights_desc(), weiHwio, eng, s, rng);
    }
  }
  // oneDNN's `any` keeps NHWC for the forward on this machine; force the blocked layout to see
  // whether it would be faster (the first layer's 1 or 3 input channels stay unblocked).
  dn::memory::desc src16 = plain(src, L.c % 16 == 0 ? tag::nChw16c : tag::any);
  dn::convolution_forward::primitive_desc fpd16(
      dn::convolution_forward::desc(dn::prop_kind::forward_inference,
                                    dn::algorithm::convolution_direct, src16, plain(wei, tag::any),
                                    biasMd, plain(dst, tag::nChw16c), strides, pad, pad),
      eng);
  dn::memory x16 = filled(fpd16.src_desc(), eng, rng), w16 = filled(fpd16.weights_desc(), eng, rng),
             b16 = filled(biasMd, eng, rng), y16(fpd16.dst_desc(), eng);
  dn::convolution_forward fwd16(fpd16);
  t.fwd16c = minMicros([&] {
    fwd16.execute(
        s,
        {{DNNL_ARG_SRC, x16}, {DNNL_ARG_WEIGHTS, w16}, {DNNL_ARG_BIAS, b16}, {DNNL_ARG_DST, y16}});
    s.wait();
  });
  t.impl16c = fpd16.impl_info_str();
  t.dst16cOut = reorderMicros(fpd16.dst_desc(), dstNhwc, eng, s, rng);
  // The pool after it in nChw16c, and the reorder of the pooled tensor back to NHWC that the
  // next (NHWC) conv would need: a blocked layout for this one layer only.
  if (L.pool) {
    dn::memory::dims pdst{L.n, L.o, oh / 2, ow / 2}, k{2, 2};
    dn::pooling_forward::primitive_desc ppd(
        dn::pooling_forward::desc(dn::prop_kind::forward_inference, dn::algorithm::pooling_max,
                                  fpd16.dst_desc(), plain(pdst, tag::nChw16c), k, k, pad, pad),
        eng);
    dn::memory pi = filled(fpd16.dst_desc(), eng, rng), po(ppd.dst_desc(), eng);
    dn::pooling_forward pool(ppd);
    t.pool16c = minMicros([&] {
      pool.execute(s, {{DNNL_ARG_SRC, pi}, {DNNL_ARG_DST, po}});
      s.wait();
    });
    t.pooled16cOut = reorderMicros(ppd.dst_desc(), plain(pdst, tag::nhwc), eng, s, rng);
  }
  return t;
}

} // namespace

int main(int argc, char **argv) {
  std::vector<int> threads{2, 1};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick") {
      budgetSeconds = 0.05;
    } else if (a.rfind("--threads=", 0) == 0) {
      threads.clear();
      for (size_t p = 10; p < a.size();) {
        size_t q = a.find(',', p);
        threads.push_back(std::stoi(a.substr(p, q - p)));
        p = q == std::string::npos ? a.size() : q + 1;
      }
    } else {
      std::fprintf(stderr, "usage: dnnl_layout_bench [--quick] [--threads=2,1]\n");
      return 2;
    }
  }
  dn::engine eng(dn::engine::kind::cpu, 0);
  dn::stream s(eng);
  std::mt19937 rng(7);
  std::printf(
      "microseconds per call, minimum over the timed calls; plain = NHWC activations and\n"
      "any-layout filters (Kiln today, filter reorder NOT included), blocked = any for all\n\n");
  for (int t : threads) {
    // oneDNN (OpenMP build) fixes a primitive's threads when it is created.
    omp_set_num_threads(t);
    CpuSample before = sampleCpu();
    std::printf("threads=%d\n%-12s %8s %8s %8s | %8s %8s | %8s %8s | %7s %7s %7s %7s | %6s %6s | "
                "%7s %7s | %7s %7s\n",
                t, "layer", "fwd pl", "fwd bl", "fwd 16c", "bwdD pl", "bwdD bl", "bwdW pl",
                "bwdW bl", "src>bl", "dst>pl", "dy>bl", "dx>pl", "w>bl", "dw>pl", "pool pl",
                "pool bl", "pbwd pl", "pbwd bl");
    struct Sum {
      double plainInf = 0, blockedInf = 0, plainTrain = 0, blockedTrain = 0, filterInf = 0,
             filterTrain = 0, endsInf = 0, endsTrain = 0;
    } sum[2];
    std::vector<LayerTimes> impls;
    for (const Layer &L : kLayers) {
      LayerTimes r = measure(L, eng, s, rng);
      std::printf("%-9s %-2s %8.1f %8.1f %8.1f | %8.1f %8.1f | %8.1f %8.1f | %7.1f %7.1f %7.1f "
                  "%7.1f | %6.1f %6.1f | %7.1f %7.1f | %7.1f %7.1f\n",
                  L.sample, L.name, r.fwd[0], r.fwd[1], r.fwd16c, r.bwdData[0], r.bwdData[1],
                  r.bwdWeights[0], r.bwdWeights[1], r.srcIn, r.dstOut, r.diffDstIn, r.diffSrcOut,
                  r.filterIn, r.filterOut, r.pool[0], r.pool[1], r.poolBwd[0], r.poolBwd[1]);
      impls.push_back(r);
      Sum &m = sum[std::strcmp(L.sample, "cnn_mnist") == 0 ? 0 : 1];
      bool first = std::strcmp(L.name, "c1") == 0, last = !L.pool;
      double pool0 = L.pool ? r.pool[0] : 0, pool1 = L.pool ? r.pool[1] : 0;
      double pbwd0 = L.pool ? r.poolBwd[0] : 0, pbwd1 = L.pool ? r.poolBwd[1] : 0;
      m.plainInf += r.fwd[0] + pool0;
      m.blockedInf += r.fwd[1] + pool1;
      // Training: c1's backward-data is never needed (x is not a param).
      m.plainTrain += r.fwd[0] + pool0 + pbwd0 + r.bwdWeights[0] + (first ? 0 : r.bwdData[0]);
      m.blockedTrain += r.fwd[1] + pool1 + pbwd1 + r.bwdWeights[1] + (first ? 0 : r.bwdData[1]);
      m.filterInf += r.filterIn;
      m.filterTrain += r.filterIn * (first ? 1 : 2) + r.filterOut;
      // A chain's ends: x in at c1, the last conv's output out (and, training, its gradient
      // in, and c1's input gradient is not computed).
      if (first)
        m.endsInf += r.srcIn, m.endsTrain += r.srcIn;
      if (last)
        m.endsInf += r.dstOut, m.endsTrain += r.dstOut + r.diffDstIn;
    }
    std::printf("other cores busy meanwhile: %.2f\n", otherCores(before, sampleCpu()));
    for (size_t i = 0; i < impls.size(); ++i) {
      const LayerTimes &r = impls[i];
      std::printf("  %s %s conv in nChw16c, output reordered to NHWC (%.1f): %.1f vs NHWC %.1f "
                  "-> gain %.1f us\n",
                  kLayers[i].sample, kLayers[i].name, r.dst16cOut, r.fwd16c + r.dst16cOut, r.fwd[0],
                  r.fwd[0] - r.fwd16c - r.dst16cOut);
    }
    for (size_t i = 0; i < impls.size(); ++i)
      if (kLayers[i].pool) {
        const LayerTimes &r = impls[i];
        double today = r.fwd[0] + r.pool[0], blocked = r.fwd16c + r.pool16c + r.pooled16cOut;
        std::printf("  %s %s alone in nChw16c (conv, pool, reorder to NHWC %.1f): %.1f vs NHWC "
                    "%.1f -> gain %.1f us\n",
                    kLayers[i].sample, kLayers[i].name, r.pooled16cOut, blocked, today,
                    today - blocked);
      }
    if (t == threads.front()) {
      std::printf("layouts (src/weights/dst) and implementations, plain | blocked:\n");
      const char *what[3] = {"fwd", "bwd-data", "bwd-weights"};
      for (size_t i = 0; i < impls.size(); ++i)
        for (int k = 0; k < 3; ++k)
          std::printf("  %s %s %-11s %-28s %-22s | %-28s %s\n", kLayers[i].sample, kLayers[i].name,
                      what[k], impls[i].layouts[0][k].c_str(), impls[i].impl[0][k].c_str(),
                      impls[i].layouts[1][k].c_str(), impls[i].impl[1][k].c_str());
      for (size_t i = 0; i < impls.size(); ++i)
        std::printf("  %s %s fwd with nChw16c forced: %s\n", kLayers[i].sample, kLayers[i].name,
                    impls[i].impl16c.c_str());
    }
    const char *names[2] = {"cnn_mnist", "cnn_cifar"};
    for (int i = 0; i < 2; ++i) {
      const Sum &m = sum[i];
      std::printf("  %s inference chain (3 conv+relu, 2 pools): plain %.1f, blocked %.1f, ends "
                  "%.1f -> gain %.1f us; filter reorders %.1f us\n",
                  names[i], m.plainInf, m.blockedInf, m.endsInf,
                  m.plainInf - m.blockedInf - m.endsInf, m.filterInf);
      std::printf("  %s train chain (fwd, pool fwd+bwd, bwd-data, bwd-weights): plain %.1f, "
                  "blocked %.1f, ends %.1f -> gain %.1f us; filter reorders %.1f us\n",
                  names[i], m.plainTrain, m.blockedTrain, m.endsTrain,
                  m.plainTrain - m.blockedTrain - m.endsTrain, m.filterTrain);
    }
    std::printf("\n");
  }
  return 0;
}
