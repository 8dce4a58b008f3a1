// Package jsonpath evaluates JSONPath expressions over decoded JSON the way
// Amazon API Gateway does in mapping templates ($input.json and $input.path).
//
// API Gateway evaluates paths with Jayway JsonPath, so this package follows
// Jayway's semantics rather than Goessner's original article or RFC 9535
// where they differ:
//
//   - A path may start with "$"; one that does not is read as "$." followed
//     by the path, as Jayway does ("store.book" is "$.store.book").
//   - Supported tokens: ".name", "['name']" and "[\"name\"]" (".['name']"
//     too, as Jayway accepts it), "['a','b']",
//     "[n]" (negative counts from the end), "[a,b]", "[start:end:step]",
//     "*", ".." (deep scan) and filters "[?(...)]" with == != < <= > >= =~
//     && || ! and parentheses over numbers, strings, booleans and null.
//     Existence filters ("[?(@.isbn)]") match when the path exists, even
//     when its value is null.
//   - A path is definite when it holds only single names and single indexes,
//     or ends in a list of names (Jayway's "multi-property merge", which
//     yields one object holding the named properties). A definite path
//     yields one value; any other path yields a list of every match, in
//     document order, possibly empty.
//   - A definite token that finds nothing while every token before it was
//     definite makes the whole evaluation fail with ErrNotFound, as Jayway
//     throws PathNotFoundException; inside an indefinite path a missing
//     property is skipped.
//   - "=~" needs the whole string to match (Java's Matcher.matches), with the
//     flags i, m and s; the pattern is compiled by Go's regexp, so Java-only
//     constructs (back-references, look-around) are a compile error.
//   - Comparing a number with a string converts the string to a number, as
//     Jayway's value nodes do; other mixed-type comparisons are false, and
//     comparing with a path that does not exist is false (!= is true).
//
// Evaluation work is bounded: Eval stops with ErrLimit after MaxSteps node
// visits, or when one token selects more than MaxResults values, so a path
// such as "$..a..b..c" over a large body cannot hang the service.
//
// Documents are Go values: nil, bool, json.Number, float64, int64, int,
// string, []any and *vtl.Map (an ordered map, so objects keep their key
// order). Decode produces such values from JSON text and Encode turns them
// back into compact JSON.
package jsonpath
