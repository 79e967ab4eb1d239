# Prints each failed test of a .trx file with the first lines of its message and stack,
# so the end of the CI log names what failed even when only its tail is kept.
function unescape(s) {
  gsub(/&lt;/, "<", s); gsub(/&gt;/, ">", s); gsub(/&quot;/, "\"", s); gsub(/&apos;/, "'", s); gsub(/&#xD;/, "", s); gsub(/&#xA;/, " ", s); gsub(/&amp;/, "\\&", s)
  return s
}
/<UnitTestResult / {
  failed = ($0 ~ /outcome="Failed"/)
  if (failed) {
    name = $0; sub(/.*testName="/, "", name); sub(/".*/, "", name)
    print "FAILED " unescape(name); shown = 0; inside = 0
  }
}
failed && /<Message>|<StackTrace>/ { inside = 1 }
failed && inside && shown < 25 {
  line = $0; gsub(/<\/?(Message|StackTrace|ErrorInfo)>/, "", line)
  if (line ~ /[^ \t]/) { print "    " unescape(line); shown++ }
}
failed && /<\/Message>|<\/StackTrace>/ { inside = 0 }
/<\/UnitTestResult>/ { failed = 0 }
