// DnnlLower: turns a oneDNN node (a fused node of kind "dnnl") into the runtime's descriptor.
#pragma once

#include "compiler/ir/Node.h"
#include "kiln/runtime/Status.h"
#include "kiln/runtime/dnnl/DnnlTable.h"

#include <vector>

namespace kiln::codegen {

/// A oneDNN node's primitive and where each of its arguments comes from.
struct DnnlLowering {
  runtime::dnnl::DnnlOpDesc desc;
  /// Per desc argument: -1 for the node's result, k >= 0 for the node's operand k (a value used
  /// twice, matmul(x, x), is one operand of the fused node but two arguments).
  std::vector<int> sources;
};

/// True if `n` is a fused node of kind "dnnl" (compiler/passes/SelectDnnl.cpp).
bool isDnnlNode(const Node &n);

/// The descriptor of `fused` (a oneDNN node): its core op, tensors in Kiln's layouts as oneDNN
/// dims and strides, bias and activation post-ops. A body select-dnnl could not have made is an
/// internal error naming the node.
Expected<DnnlLowering> lowerDnnlNode(const Node &fused);

} // namespace kiln::codegen
