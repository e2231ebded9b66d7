// DnnlTable: creates oneDNN 2.6 primitives from DnnlOpDescs once, and runs them by index.
//
// Kiln's tensors stay in the dense layouts the IR gives them (NHWC images, HWIO filters,
// row-major matrices); each descriptor states them as oneDNN dims plus strides. Where oneDNN's
// fast implementation wants another layout for an argument (blocked filters for convolutions,
// chosen with format_tag::any), a reorder to or from that layout is created here, once, next to
// the primitive; a call takes the reordered buffer from its thread's scratch and runs reorders
// and primitive. An inference call reuses a param filter's reordered copy until the
// executable's state version changes (FilterCache).
#include "kiln/runtime/dnnl/DnnlTable.h"

#include "DnnlBuffers.h"

#include "kiln/runtime/Parallel.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <cstdlib>
#include <map>
#include <memory>

namespace kiln::runtime::dnnl {

namespace dn = ::dnnl;

std::string DnnlOpDesc::key() const {
  auto ints = [](const std::vector<int64_t> &v) {
    std::string s = "[";
    for (int64_t i : v)
      s += std::to_string(i) + ",";
    return s + "]";
  };
  std::string k = std::to_string(int(kind)) + (hasBias ? "b" : "") + " axis=" +
                  std::to_string(axis) + " eps=" + std::to_string(epsilon);
  for (const DnnlTensor &t : args)
    k += " " + ints(t.dims) + ints(t.strides);
  for (const DnnlPostOp &p : postOps)
    k += " post" + std::to_string(int(p.kind)) + ":" + std::to_string(p.alpha);
  return k + " s" + ints(strides) + "d" + ints(dilations) + "l" + ints(padLeft) + "r" +
         ints(padRight) + "k" + ints(kernel);
}

size_t distinctPrimitives(const std::vector<DnnlOpDesc> &ops) {
  std::map<std::string, int> keys;
  for (const DnnlOpDesc &op : ops)
    keys[op.key()] = 0;
  return keys.size();
}

namespace {

constexpr int kNoArg = -1;

dn::memory::desc userDesc(const DnnlTensor &t) {
  return dn::memory::desc(dn::memory::dims(t.dims.begin(), t.dims.end()),
                          dn::memory::data_type::f32,
                          dn::memory::dims(t.strides.begin(), t.strides.end()));
}

/// The same logical tensor with the layout left to the primitive.
dn::memory::desc anyDesc(const DnnlTensor &t) {
  return dn::memory::desc(dn::memory::dims(t.dims.begin(), t.dims.end()),
                          dn::memory::data_type::f32, dn::memory::format_tag::any);
}

dn::memory::dims dims(const std::vector<int64_t> &v) { return dn::memory::dims(v.begin(), v.end()); }

dn::algorithm eltwiseAlgorithm(DnnlPostOp::Kind k) {
  switch (k) {
  case DnnlPostOp::Kind::Relu:
    return dn::algorithm::eltwise_relu;
  case DnnlPostOp::Kind::Sigmoid:
    return dn::algorithm::eltwise_logistic;
  case DnnlPostOp::Kind::Tanh:
    return dn::algorithm::eltwise_tanh;
  case DnnlPostOp::Kind::GeluErf:
    return dn::algorithm::eltwise_gelu_erf;
  case DnnlPostOp::Kind::GeluTanh:
    return dn::algorithm::eltwise_gelu_tanh;
  }
  return dn::algorithm::eltwise_relu;
}

/// A created primitive: shared by every node whose descriptor has the same key.
struct Compiled {
  DnnlKind kind = DnnlKind::Matmul;
  dn::primitive prim;
  std::vector<int> argIds;               ///< oneDNN argument per position (kNoArg: not passed)
  std::vector<dn::memory::desc> primMd;  ///< the layout the primitive wants, per position
  dn::primitive forward;                 ///< MaxPoolBackward: the forward that fills the workspace
  dn::memory::desc forwardDstMd, workspaceMd;
  dn::memory::desc scratchpadMd, forwardScratchpadMd; ///< user-managed (see Table::execute)
  std::string impl;
};

/// One node's use of a primitive: its tensors' layouts and, where the primitive wants another
/// layout, the reorders (stateless, so shared by concurrent calls).
struct Slot {
  std::shared_ptr<Compiled> c;
  std::string name;
  std::vector<dn::memory::desc> user;  ///< at the caller's pointers
  std::vector<bool> internal;          ///< the primitive wants c->primMd[i] instead
  std::vector<dn::reorder> reorder; ///< user -> internal for inputs, internal -> user for the output
  std::vector<dn::memory::desc> reorderScratchpad; ///< per reorder (user-managed, as above)
  int cachedArg = kNoArg; ///< the filter whose reordered copy inference calls reuse, if any
  std::unique_ptr<FilterCache> cache;
};

class Table final : public PrimitiveTable {
public:
  Table() : engine_(dn::engine::kind::cpu, 0) {}

  Status add(const DnnlOpDesc &op) {
    try {
      std::shared_ptr<Compiled> &c = cache_[op.key()];
      if (!c)
        c = compile(op);
      Slot s;
      s.c = c;
      s.name = op.name;
      for (size_t i = 0; i < op.args.size(); ++i) {
        dn::memory::desc md = userDesc(op.args[i]);
        bool differs = c->argIds[i] != kNoArg && c->primMd[i] != md;
        s.user.push_back(md);
        s.internal.push_back(differs);
        dn::memory user(md, engine_, static_cast<void *>(nullptr));
        dn::memory internal(differs ? c->primMd[i] : md, engine_, static_cast<void *>(nullptr));
        dn::primitive_attr attr;
        attr.set_scratchpad_mode(dn::scratchpad_mode::user);
        if (!differs) {
          s.reorder.emplace_back();
          s.reorderScratchpad.emplace_back();
          continue;
        }
        dn::reorder::primitive_desc pd = i == 0 ? dn::reorder::primitive_desc(internal, user, attr)
                                                : dn::reorder::primitive_desc(user, internal, attr);
        s.reorder.emplace_back(pd);
        s.reorderScratchpad.push_back(pd.scratchpad_desc());
      }
      // A param filter reordered per call would redo the same work on every predict; it is
      // reordered once per state version instead (weights change only between calls).
      constexpr size_t kWeights = 2;
      if (op.stateWeights && op.kind == DnnlKind::ConvForward && s.internal.size() > kWeights &&
          s.internal[kWeights]) {
        s.cache = std::make_unique<FilterCache>();
        if (s.cache->allocate(c->primMd[kWeights].get_size()))
          s.cachedArg = int(kWeights);
        else
          s.cache.reset(); // out of memory: reorder per call, as without a cache
      }
      slots_.push_back(std::move(s));
      return Status::ok();
    } catch (const dn::error &e) {
      return Status::error("error: oneDNN refused node '" + op.name + "': " + e.what());
    }
  }

  void execute(int64_t index, void **args) noexcept override {
    if (index < 0 || size_t(index) >= slots_.size()) {
      kiln_runtime_error(const_cast<char *>("internal error: oneDNN primitive {} does not exist"),
                         index);
      return;
    }
    const Slot &s = slots_[size_t(index)];
    // Executables run predict from many threads at once (Executable.h), so everything a call
    // writes besides its own tensors is made per call: memory objects, the buffers of reordered
    // arguments, the pooling workspace, oneDNN's scratchpad (user-managed for that reason) and
    // the stream. Primitives and reorders are immutable and shared; a param filter's cached
    // reorder is written only when the state version changes (FilterCache says why that is safe).
    try {
      // The call's temporaries come from this thread's scratch, sized once for all of them.
      bool pooling = s.c->kind == DnnlKind::MaxPoolBackward;
      // Inference (the state cannot change during the call) may use the cached filter; a train
      // step writes the weights it reads, so it reorders them itself.
      const StateVersion *state = currentStateVersion();
      int cached = state && state->readOnly ? s.cachedArg : kNoArg;
      size_t bytes = CallScratch::rounded(s.c->scratchpadMd.get_size());
      for (size_t i = 0; i < s.user.size(); ++i)
        if (s.internal[i]) // room for a per-call reorder even when cached (see FilterCache)
          bytes += CallScratch::rounded(s.c->primMd[i].get_size()) +
                   CallScratch::rounded(s.reorderScratchpad[i].get_size());
      if (pooling)
        bytes += CallScratch::rounded(s.c->workspaceMd.get_size()) +
                 CallScratch::rounded(s.c->forwardDstMd.get_size()) +
                 CallScratch::rounded(s.c->forwardScratchpadMd.get_size());
      thread_local CallScratch scratch;
      scratch.reset();
      if (!scratch.reserve(bytes)) {
        kiln_runtime_error(const_cast<char *>("error: out of memory for oneDNN call {}"), index);
        return;
      }
      auto temp = [&](const dn::memory::desc &md) {
        return dn::memory(md, engine_, scratch.take(md.get_size()));
      };
      dn::memory outputReorderScratch;
      dn::stream stream(engine_);
      std::vector<dn::memory> user, internal(s.user.size());
      std::unordered_map<int, dn::memory> map;
      for (size_t i = 0; i < s.user.size(); ++i) {
        user.emplace_back(s.user[i], engine_, args[i]);
        if (s.internal[i]) {
          dn::memory reorderScratch = temp(s.reorderScratchpad[i]);
          auto reorderInto = [&](const dn::memory &to) {
            s.reorder[i].execute(stream, {{DNNL_ARG_FROM, user[i]},
                                          {DNNL_ARG_TO, to},
                                          {DNNL_ARG_SCRATCHPAD, reorderScratch}});
          };
          auto fill = [&](char *buffer) {
            reorderInto(dn::memory(s.c->primMd[i], engine_, buffer));
            stream.wait();
          };
          char *reused = int(i) == cached ? s.cache->get(args[i], state->version, fill) : nullptr;
          internal[i] =
              reused ? dn::memory(s.c->primMd[i], engine_, reused) : temp(s.c->primMd[i]);
          if (i == 0)
            outputReorderScratch = reorderScratch;
          else if (!reused)
            reorderInto(internal[i]);
        }
        if (s.c->argIds[i] != kNoArg)
          map[s.c->argIds[i]] = s.internal[i] ? internal[i] : user[i];
      }
      if (s.c->scratchpadMd.get_size() > 0)
        map[DNNL_ARG_SCRATCHPAD] = temp(s.c->scratchpadMd);
      if (pooling) {
        dn::memory workspace = temp(s.c->workspaceMd);
        s.c->forward.execute(stream,
                             {{DNNL_ARG_SRC, user[1]},
                              {DNNL_ARG_DST, temp(s.c->forwardDstMd)},
                              {DNNL_ARG_WORKSPACE, workspace},
                              {DNNL_ARG_SCRATCHPAD, temp(s.c->forwardScratchpadMd)}});
        map[DNNL_ARG_WORKSPACE] = workspace;
      }
      s.c->prim.execute(stream, map);
      if (s.internal[0])
        s.reorder[0].execute(stream, {{DNNL_ARG_FROM, internal[0]},
                                      {DNNL_ARG_TO, user[0]},
                                      {DNNL_ARG_SCRATCHPAD, outputReorderScratch}});
      stream.wait();
    } catch (const dn::error &e) {
      std::string message = "error: oneDNN failed on node '" + s.name + "': " + e.what() + " ({})";
      kiln_runtime_error(message.data(), index);
    }
  }

private:
  std::shared_ptr<Compiled> compile(const DnnlOpDesc &op) {
    auto c = std::make_shared<Compiled>();
    c->kind = op.kind;
    const auto &a = op.args;
    dn::primitive_attr attr;
    attr.set_scratchpad_mode(dn::scratchpad_mode::user);
    if (!op.postOps.empty()) {
      dn::post_ops po;
      for (const DnnlPostOp &p : op.postOps)
        po.append_eltwise(1.0f, eltwiseAlgorithm(p.kind), p.alpha, 0.0f);
      attr.set_post_ops(po);
    }
    auto finish = [&](const dn::primitive_desc &pd, dn::primitive prim, std::vector<int> ids) {
      c->prim = std::move(prim);
      c->argIds = std::move(ids);
      for (int id : c->argIds)
        c->primMd.push_back(id == kNoArg ? dn::memory::desc()
                                         : pd.query_md(dn::query::exec_arg_md, id));
      c->impl = pd.impl_info_str();
      c->scratchpadMd = pd.scratchpad_desc();
    };
    auto stridesD = dims(op.strides), dil = dims(op.dilations), pl = dims(op.padLeft),
         pr = dims(op.padRight), kernel = dims(op.kernel);
    switch (op.kind) {
    case DnnlKind::Matmul: {
      dn::matmul::desc d = op.hasBias
                               ? dn::matmul::desc(userDesc(a[1]), userDesc(a[2]), userDesc(a[3]),
                                                  userDesc(a[0]))
                               : dn::matmul::desc(userDesc(a[1]), userDesc(a[2]), userDesc(a[0]));
      dn::matmul::primitive_desc pd(d, attr, engine_);
      std::vector<int> ids{DNNL_ARG_DST, DNNL_ARG_SRC, DNNL_ARG_WEIGHTS};
      if (op.hasBias)
        ids.push_back(DNNL_ARG_BIAS);
      finish(pd, dn::matmul(pd), ids);
      break;
    }
    case DnnlKind::ConvForward: {
      // Filters in the layout oneDNN's fast kernels want (a reorder per call: weights change
      // every training step, and they are small next to the activations).
      auto d = op.hasBias ? dn::convolution_forward::desc(
                                dn::prop_kind::forward_inference, dn::algorithm::convolution_direct,
                                userDesc(a[1]), anyDesc(a[2]), userDesc(a[3]), userDesc(a[0]),
                                stridesD, dil, pl, pr)
                          : dn::convolution_forward::desc(
                                dn::prop_kind::forward_inference, dn::algorithm::convolution_direct,
                                userDesc(a[1]), anyDesc(a[2]), userDesc(a[0]), stridesD, dil, pl, pr);
      dn::convolution_forward::primitive_desc pd(d, attr, engine_);
      std::vector<int> ids{DNNL_ARG_DST, DNNL_ARG_SRC, DNNL_ARG_WEIGHTS};
      if (op.hasBias)
        ids.push_back(DNNL_ARG_BIAS);
      finish(pd, dn::convolution_forward(pd), ids);
      break;
    }
    case DnnlKind::ConvBackwardData: {
      // args: diff_src, diff_dst, weights
      dn::convolution_forward::desc fd(dn::prop_kind::forward_training,
                                       dn::algorithm::convolution_direct, userDesc(a[0]),
                                       anyDesc(a[2]), userDesc(a[1]), stridesD, dil, pl, pr);
      dn::convolution_forward::primitive_desc hint(fd, attr, engine_);
      dn::convolution_backward_data::desc d(dn::algorithm::convolution_direct, userDesc(a[0]),
                                            anyDesc(a[2]), userDesc(a[1]), stridesD, dil, pl, pr);
      dn::convolution_backward_data::primitive_desc pd(d, attr, engine_, hint);
      finish(pd, dn::convolution_backward_data(pd),
             {DNNL_ARG_DIFF_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS});
      break;
    }
    case DnnlKind::ConvBackwardWeights: {
      // args: diff_weights, src, diff_dst
      dn::convolution_forward::desc fd(dn::prop_kind::forward_training,
                                       dn::algorithm::convolution_direct, userDesc(a[1]),
                                       anyDesc(a[0]), userDesc(a[2]), stridesD, dil, pl, pr);
      dn::convolution_forward::primitive_desc hint(fd, attr, engine_);
      dn::convolution_backward_weights::desc d(dn::algorithm::convolution_direct, userDesc(a[1]),
                                               anyDesc(a[0]), userDesc(a[2]), stridesD, dil, pl,
                                               pr);
      dn::convolution_backward_weights::primitive_desc pd(d, attr, engine_, hint);
      finish(pd, dn::convolution_backward_weights(pd),
             {DNNL_ARG_DIFF_WEIGHTS, DNNL_ARG_SRC, DNNL_ARG_DIFF_DST});
      break;
    }
    case DnnlKind::MaxPool:
    case DnnlKind::AvgPool: {
      auto alg = op.kind == DnnlKind::MaxPool ? dn::algorithm::pooling_max
                                              : dn::algorithm::pooling_avg_exclude_padding;
      dn::pooling_forward::desc d(dn::prop_kind::forward_inference, alg, userDesc(a[1]),
                                  userDesc(a[0]), stridesD, kernel, pl, pr);
      dn::pooling_forward::primitive_desc pd(d, attr, engine_);
      finish(pd, dn::pooling_forward(pd), {DNNL_ARG_DST, DNNL_ARG_SRC});
      break;
    }
    case DnnlKind::MaxPoolBackward:
    case DnnlKind::AvgPoolBackward: {
      bool max = op.kind == DnnlKind::MaxPoolBackward;
      auto alg = max ? dn::algorithm::pooling_max : dn::algorithm::pooling_avg_exclude_padding;
      const DnnlTensor &diffDst = max ? a[2] : a[1];
      dn::pooling_forward::desc fd(dn::prop_kind::forward_training, alg, userDesc(a[0]),
                                   userDesc(diffDst), stridesD, kernel, pl, pr);
      dn::pooling_forward::primitive_desc hint(fd, attr, engine_);
      dn::pooling_backward::desc d(alg, userDesc(a[0]), userDesc(diffDst), stridesD, kernel, pl,
                                   pr);
      dn::pooling_backward::primitive_desc pd(d, attr, engine_, hint);
      if (max) {
        c->forward = dn::pooling_forward(hint);
        c->forwardDstMd = hint.dst_desc();
        c->workspaceMd = hint.workspace_desc();
        c->forwardScratchpadMd = hint.scratchpad_desc();
        finish(pd, dn::pooling_backward(pd), {DNNL_ARG_DIFF_SRC, kNoArg, DNNL_ARG_DIFF_DST});
      } else {
        finish(pd, dn::pooling_backward(pd), {DNNL_ARG_DIFF_SRC, DNNL_ARG_DIFF_DST});
      }
      break;
    }
    case DnnlKind::Softmax:
    case DnnlKind::LogSoftmax: {
      auto alg = op.kind == DnnlKind::Softmax ? dn::algorithm::softmax_accurate
                                              : dn::algorithm::softmax_log;
      dn::softmax_v2_forward::desc d(dn::prop_kind::forward_inference, alg, userDesc(a[1]),
                                     userDesc(a[0]), op.axis);
      dn::softmax_v2_forward::primitive_desc pd(d, attr, engine_);
      finish(pd, dn::softmax_v2_forward(pd), {DNNL_ARG_DST, DNNL_ARG_SRC});
      break;
    }
    case DnnlKind::LayerNorm: {
      dn::layer_normalization_forward::desc d(
          dn::prop_kind::forward_inference, userDesc(a[1]), op.epsilon,
          dn::normalization_flags::use_scale | dn::normalization_flags::use_shift);
      dn::layer_normalization_forward::primitive_desc pd(d, attr, engine_);
      finish(pd, dn::layer_normalization_forward(pd),
             {DNNL_ARG_DST, DNNL_ARG_SRC, DNNL_ARG_SCALE, DNNL_ARG_SHIFT});
      break;
    }
    }
    return c;
  }

  dn::engine engine_;
  std::map<std::string, std::shared_ptr<Compiled>> cache_;
  std::vector<Slot> slots_;
};

} // namespace

Expected<std::unique_ptr<PrimitiveTable>> createDnnlTable(const std::vector<DnnlOpDesc> &ops) {
  try {
    auto table = std::make_unique<Table>();
    for (const DnnlOpDesc &op : ops)
      KILN_TRY(table->add(op));
    return std::unique_ptr<PrimitiveTable>(std::move(table));
  } catch (const dn::error &e) {
    return Status::error(std::string("error: cannot create the oneDNN CPU engine: ") + e.what());
  }
}

} // namespace kiln::runtime::dnnl
