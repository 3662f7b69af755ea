#include "sluice/sql/parse_tree_internal.h"

#include <pg_query.h>

#include <cctype>

#include "sluice/sql/sql_error_internal.h"

namespace sluice::sql::internal {

namespace dom = simdjson::dom;

PgNode AsNode(dom::element e) {
  PgNode n;
  dom::object wrapper;
  if (e.get_object().get(wrapper) != simdjson::SUCCESS) return n;
  for (auto field : wrapper) {
    dom::object inner;
    if (field.value.get_object().get(inner) != simdjson::SUCCESS) return n;
    n.tag = field.key;
    n.fields = inner;
    n.valid = true;
    break;
  }
  return n;
}

PgNode AsObject(dom::element e) {
  PgNode n;
  if (e.get_object().get(n.fields) == simdjson::SUCCESS) n.valid = true;
  return n;
}

PgNode PgNode::Node(std::string_view key) const {
  if (!valid) return {};
  dom::element e;
  if (fields.at_key(key).get(e) != simdjson::SUCCESS) return {};
  return AsNode(e);
}

PgNode PgNode::Object(std::string_view key) const {
  if (!valid) return {};
  dom::element e;
  if (fields.at_key(key).get(e) != simdjson::SUCCESS) return {};
  return AsObject(e);
}

std::vector<PgNode> PgNode::List(std::string_view key) const {
  std::vector<PgNode> out;
  if (!valid) return out;
  dom::array arr;
  if (fields.at_key(key).get_array().get(arr) != simdjson::SUCCESS) return out;
  for (dom::element e : arr) out.push_back(AsNode(e));
  return out;
}

std::string_view PgNode::String(std::string_view key) const {
  std::string_view s;
  if (!valid || fields.at_key(key).get_string().get(s) != simdjson::SUCCESS) return {};
  return s;
}

int64_t PgNode::Int(std::string_view key, int64_t def) const {
  int64_t v;
  if (!valid || fields.at_key(key).get_int64().get(v) != simdjson::SUCCESS) return def;
  return v;
}

bool PgNode::Bool(std::string_view key) const {
  bool v;
  if (!valid || fields.at_key(key).get_bool().get(v) != simdjson::SUCCESS) return false;
  return v;
}

bool PgNode::Has(std::string_view key) const {
  dom::element e;
  return valid && fields.at_key(key).get(e) == simdjson::SUCCESS;
}

std::string_view StringValue(const PgNode& n) {
  if (!n.Is("String")) return {};
  return n.String("sval");
}

// libpg_query reports a 1-based character position; we use byte offsets.
static int CharPositionToByteOffset(const std::string& sql, int cursorpos) {
  if (cursorpos <= 0) return 0;
  int chars = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    if ((static_cast<unsigned char>(sql[i]) & 0xC0) == 0x80) continue;
    if (++chars == cursorpos) return static_cast<int>(i);
  }
  return static_cast<int>(sql.size());
}

Result<std::unique_ptr<ParseTree>> ParseTree::Parse(const std::string& sql) {
  std::unique_ptr<ParseTree> tree(new ParseTree());
  tree->sql_ = sql;
  PgQueryParseResult result = pg_query_parse(sql.c_str());
  if (result.error != nullptr) {
    std::string message = result.error->message ? result.error->message : "syntax error";
    int position = CharPositionToByteOffset(sql, result.error->cursorpos);
    pg_query_free_parse_result(result);
    return ErrorAt(position, message);
  }
  std::string json = result.parse_tree ? result.parse_tree : "{}";
  pg_query_free_parse_result(result);
  dom::element root;
  if (auto err = tree->parser_.parse(json).get(root); err != simdjson::SUCCESS) {
    return Status::Invalid("internal: cannot read the SQL parse tree: ",
                           simdjson::error_message(err));
  }
  PgNode top = AsObject(root);
  dom::array stmts;
  if (top.fields.at_key("stmts").get_array().get(stmts) == simdjson::SUCCESS) {
    for (dom::element e : stmts) tree->statements_.push_back(AsObject(e));
  }
  return tree;
}

Result<int64_t> ParseTree::IntegerConstant(const PgNode& a_const) const {
  PgNode ival = a_const.Object("ival");
  if (ival.Has("ival")) return ival.Int("ival");
  // Omitted: the value is zero or negative (the grammar folded the minus sign into the
  // constant, so the text at the location reads e.g. "-3", "- 3" or "-(3)").
  size_t i = static_cast<size_t>(std::max(a_const.Location(), 0));
  bool negative = false;
  while (i < sql_.size() && !std::isdigit(static_cast<unsigned char>(sql_[i]))) {
    char c = sql_[i];
    if (c == '-') {
      negative = !negative;
    } else if (c != '(' && c != '+' && !std::isspace(static_cast<unsigned char>(c))) {
      break;
    }
    ++i;
  }
  if (i >= sql_.size() || !std::isdigit(static_cast<unsigned char>(sql_[i]))) {
    return ErrorAt(a_const.Location(), "internal: cannot read the integer constant here");
  }
  int64_t value = 0;
  while (i < sql_.size() && std::isdigit(static_cast<unsigned char>(sql_[i]))) {
    if (value > (INT64_MAX - 9) / 10) {
      return ErrorAt(a_const.Location(), "integer constant out of range");
    }
    value = value * 10 + (sql_[i] - '0');
    ++i;
  }
  return negative ? -value : value;
}

}  // namespace sluice::sql::internal
