// The IR text form, parsing side: reads what Printer.h writes (and hand-written graphs) back into
// a Graph, building through Graph::add* so that shape rules and attribute checks run.
//
// Grammar (one statement per definition; whitespace and `// comments` are free-form):
//
//   file    := 'graph' SYMBOL ('seed' '=' INT | 'weights' '=' STRING
//                              | 'arena' '=' INT | 'peak_live' '=' INT)* '{' stmt* '}'
//   stmt    := 'input' %name ':' type arena? loc?
//            | 'param' %name ':' type arena? ('init' '=' init)? ('trainable' '=' BOOL)?
//              ('=' dense)? loc?
//            | 'const' %name ':' type arena? '=' dense loc?
//            | %name '=' OP '(' refs? ')' ('{' attr (',' attr)* '}')? ':' types arena? body? loc?
//            | 'return' ref (',' ref)*
//            | 'train' SYMBOL '(' field (',' field)* ')' loc?
//            | 'step' SYMBOL '(' 'loss' '=' ref (',' 'metrics' '=' '[' refs ']')? ')'
//              '{' (%state '<-' ref)* '}'
//   body    := '{' (input | const | %name '=' OP ... | 'return' refs)* '}'   (fused nodes only,
//              which require one; bodies do not nest; names inside are local to the body)
//   type    := DTYPE '[' (INT (',' INT)*)? ']'          types := type | '(' type (',' type)* ')'
//   ref     := %name | %name:INDEX                      SYMBOL := @name | @"any text"
//   dense   := 'dense' '<' (elem | '[' elem (',' elem)* ']') '>'   (a single elem is a splat)
//   attr    := NAME '=' (INT | FLOAT | true | false | STRING | DTYPE | '[' number,* ']')
//   init    := KIND ('{' NAME '=' (number | '[' number,* ']') ,* '}')?
//   field   := loss=ref | params=['auto'] '[' refs ']' | optimizer=KIND{...} | clip_norm=number
//            | regularization={l1=x, l2=y} | l1=x | l2=x | lr_schedule=KIND{...} | metrics=[refs]
//   loc     := 'loc' '(' ('unknown' | STRING ':' INT ':' INT (',' STRING)?) ')'
//   arena   := '@arena' '(' INT (',' INT)* ')'   (the memory plan: one offset per result, -1
//              unplanned; the header's arena/peak_live give the arena size and its lower bound)
//
// Floats contain '.' or an exponent, or are inf, -inf, nan, -nan; an int where a float
// attribute is expected is converted by Graph::addNode. Definitions without loc(...) get their
// position in the text. `dense<...N elements>` (an elided value) is rejected with a message.
#pragma once

#include "compiler/ir/Graph.h"

#include <string>
#include <string_view>

namespace kiln {

/// Parses one graph. Errors are located in the text: "g.kir:3:14: error: expected ':' after
/// value name". Never crashes or recurses on hostile input; sizes are bounded (see kMax*).
Expected<Graph> parseGraph(std::string_view text, const std::string &filename);

/// Largest text accepted (bytes).
inline constexpr size_t kMaxIrTextSize = size_t(1) << 30;
/// Largest rank accepted in a type.
inline constexpr size_t kMaxIrRank = 64;

} // namespace kiln
