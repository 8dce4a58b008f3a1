// Package vtl is a Velocity Template Language engine for the subset of VTL
// that Amazon API Gateway's mapping templates use, so that templates written
// for AWS run unchanged on Archway. It stands alone: the AWS variables
// ($input, $util, $context, $stageVariables) are host values the caller
// passes to Render, usually as Objects.
//
// Templates are parsed once (Parse) and rendered many times, concurrently
// (Template.Render). Rendering is bounded by Limits: steps, output and
// string size, and macro/#define depth. Exceeding one is an error wrapping
// ErrLimit, never a hang or a panic.
//
// # Supported
//
// Directives: #set, #if/#elseif/#else/#end, #foreach (with $foreach.index,
// .count, .hasNext, .first, .last, .parent, .topmost, and Velocity 1.7's
// $velocityCount and $velocityHasNext), #break and #break($foreach), #stop,
// #define, #macro (called as #name(args) or, without arguments, #name), the
// bracketed forms #{if}, #{else}, #{end}, #{set}, comments (## and #* *#),
// and unparsed content #[[ ... ]]#.
//
// References: $a, ${a}, $!a, $!{a}, properties $a.b.c, indexes $a[0],
// $a[-1] (from the end, as in Velocity 1.7) and $a['k'], method calls.
// Properties resolve as Velocity's introspection does: Map.get(name) on a
// map, isEmpty() for $x.empty on strings and lists, key and value on map
// entries, Object.Property on host objects.
//
// Expressions: integer (int64) and floating-point (float64) arithmetic with
// Java's rules (integer division truncates; a zero divisor gives null), + as
// string concatenation when either side is a string, comparisons == != < >
// <= >= and eq ne lt gt le ge, logic && || ! and and or not, ranges [1..5]
// (ascending or descending), list [..] and map {k: v} literals, strings in
// single quotes (literal) and double quotes (references and directives are
// rendered; a doubled quote stands for one quote; \uXXXX is decoded in double quotes
// only).
//
// Methods, with Java's semantics: String length, substring, indexOf,
// lastIndexOf, replace, replaceAll, replaceFirst, matches, split,
// toLowerCase, toUpperCase, trim, startsWith, endsWith, contains, equals,
// equalsIgnoreCase, isEmpty, charAt, concat (indexes count UTF-16 units, as
// Java's do); List size, get, isEmpty, contains, add, indexOf, set, remove,
// clear; Map get, put, containsKey, containsValue, keySet, values, entrySet,
// size, isEmpty, remove, putAll, clear; toString on any value. A method that
// Java would throw from (an index out of range) fails the rendering, as
// Velocity's MethodInvocationException does.
//
// Values print as Java prints them: 1.0, 1.5, 1.0E10 for doubles, [a, b] for
// lists, {k=v, k2=v2} for maps.
//
// # Velocity 1.7 semantics kept
//
// #if is false only for null and false: an empty string, zero and an empty
// list are true. #set with a null right-hand side leaves its target unchanged
// (directive.set.null.allowed=false). == compares numbers by value, values
// of one class with equals(), and anything else by toString(). Identifiers
// may contain '-', so $a-1 is one reference (write $a - 1). #foreach over a
// map iterates its values and restores the loop variable afterwards. Inline
// macros are known throughout the template, and #set inside a macro sets the
// template's variable (velocimacro.context.localscope=false).
//
// Escaping follows 1.7: \$a renders $a when $a is defined and \$a when it is
// not; \\$a renders \ and the value. \#set (any known directive or macro)
// renders the directive as text; an even run of backslashes before a
// directive is halved and the directive runs. Other backslashes are text.
//
// Whitespace follows Velocity 1.7's lexer exactly, not 2.0's "lines" mode:
//
//   - The ')' that closes a directive's arguments (#set, #if, #elseif,
//     #foreach, #define, #macro, a macro call, #break($foreach)), and #else
//     and #end, take trailing spaces and tabs with them if, and only if, a
//     newline follows; the newline goes too.
//   - #set also takes the spaces and tabs just before it, but only when they
//     start a token: at the start of the template, or after a directive, a
//     reference or a comment. After text on the same line ("a  #set(...)")
//     or indentation after a plain text line, they stay.
//   - The indentation before #if, #foreach, #end and the other directives is
//     output. A ## comment takes its newline; #* *# does not.
//
// So a line holding only #set(...) emits nothing, and a line holding only
// #if(...), #else, #end or #foreach(...) emits only its indentation.
//
// # Where Archway differs from Velocity
//
//   - An undefined or null reference renders as an empty string, as on API
//     Gateway; Velocity prints it as written ($missing). This also holds
//     inside double-quoted strings and for a null operand of + with a string.
//   - Method calls that do not exist, or whose arguments do not fit, are
//     null (Velocity logs and prints the reference as written).
//   - Macro arguments are evaluated once, at the call (Velocity 1.7 passes
//     them by name and re-evaluates them at each use).
//   - Map keys are strings: a non-string key is converted with toString().
//   - Integers are 64-bit; overflow is a rendering error (Velocity would
//     widen to BigInteger).
//   - replaceAll, replaceFirst, matches and split run Java regular
//     expressions on Go's RE2: the common syntax is the same; lookaround,
//     backreferences, atomic groups and possessive quantifiers fail the
//     rendering with an error that names the construct.
//   - Lists a template gets from the host ([]any) are the template's to
//     change when reached through a variable or a map; a list reached only
//     through a host Object's result is a copy.
//   - #parse, #include, #evaluate and #literal are not supported (a parse
//     error): API Gateway templates cannot load other templates.
package vtl
