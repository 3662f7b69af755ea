#include "sluice/job/job_spec.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "sluice/base/duration.h"
#include "sluice/base/memory.h"

namespace sluice::job {

namespace {

class Parser {
 public:
  Parser(std::string path, std::map<std::string, std::string> vars)
      : path_(std::move(path)), vars_(std::move(vars)) {}

  Status Error(const YAML::Node& node, const std::string& msg) const {
    int line = node.Mark().line >= 0 ? node.Mark().line + 1 : 0;
    return Status::Invalid(fmt::format("{}:{}: {}", path_, line, msg));
  }

  Status CheckKeys(const YAML::Node& map, const std::string& where,
                   const std::set<std::string>& known) const {
    if (!map.IsMap()) return Error(map, where + " must be a mapping (key: value)");
    for (const auto& kv : map) {
      auto key = kv.first.as<std::string>();
      if (!known.count(key)) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        return Error(kv.first,
                     fmt::format("unknown key '{}' in {} (known: {})", key, where, list));
      }
    }
    return Status::OK();
  }

  Result<std::string> Text(const YAML::Node& node, const std::string& what) const {
    if (!node.IsScalar()) return Error(node, what + " must be a text value");
    return Substitute(node, node.as<std::string>());
  }

  Result<std::string> Substitute(const YAML::Node& node, const std::string& s) const {
    std::string out;
    size_t i = 0;
    while (i < s.size()) {
      if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '{') {
        size_t end = s.find('}', i);
        if (end == std::string::npos) return Error(node, "unclosed ${ in '" + s + "'");
        std::string name = s.substr(i + 2, end - i - 2);
        auto it = vars_.find(name);
        if (it == vars_.end()) {
          return Error(node,
                       fmt::format("unknown variable ${{{}}} (define it under vars: or "
                                   "pass --set {}=...)",
                                   name, name));
        }
        out += it->second;
        i = end + 1;
      } else {
        out.push_back(s[i++]);
      }
    }
    return out;
  }

  Result<int64_t> Int(const YAML::Node& node, const std::string& what) const {
    ARROW_ASSIGN_OR_RAISE(auto t, Text(node, what));
    try {
      size_t used = 0;
      int64_t v = std::stoll(t, &used);
      if (used != t.size()) throw std::invalid_argument("trailing");
      return v;
    } catch (...) {
      return Error(node, fmt::format("{} must be an integer, got '{}'", what, t));
    }
  }

  Result<JobSpec> Parse(const YAML::Node& root) {
    JobSpec spec;
    spec.path = path_;
    if (!root.IsMap())
      return Error(root, "a job file is a mapping with sources, steps and sinks");
    ARROW_RETURN_NOT_OK(CheckKeys(
        root, "the job",
        {"name", "vars", "settings", "sources", "steps", "sinks", "description"}));
    if (root["name"]) {
      ARROW_ASSIGN_OR_RAISE(spec.name, Text(root["name"], "name"));
    }
    if (auto s = root["settings"]) {
      ARROW_RETURN_NOT_OK(CheckKeys(s, "settings",
                                    {"threads", "memory_limit", "batch_rows",
                                     "spill_directory", "state_ttl", "late_rows"}));
      if (s["threads"]) {
        ARROW_ASSIGN_OR_RAISE(auto t, Int(s["threads"], "settings.threads"));
        if (t < 0)
          return Error(s["threads"], "settings.threads must be >= 0 (0 = all cores)");
        spec.settings.threads = static_cast<int>(t);
      }
      if (s["memory_limit"]) {
        ARROW_ASSIGN_OR_RAISE(auto t, Text(s["memory_limit"], "settings.memory_limit"));
        auto bytes = ParseByteSize(t);
        if (!bytes.ok()) return Error(s["memory_limit"], bytes.status().message());
        spec.settings.memory_limit = *bytes;
      }
      if (s["spill_directory"]) {
        ARROW_ASSIGN_OR_RAISE(spec.settings.spill_directory,
                              Text(s["spill_directory"], "settings.spill_directory"));
      }
      if (s["late_rows"]) {
        ARROW_ASSIGN_OR_RAISE(spec.settings.late_rows,
                              Text(s["late_rows"], "settings.late_rows"));
      }
      if (s["state_ttl"]) {
        ARROW_ASSIGN_OR_RAISE(auto t, Text(s["state_ttl"], "settings.state_ttl"));
        auto ttl = ParseDurationMicros(t, "settings.state_ttl");
        if (!ttl.ok()) return Error(s["state_ttl"], ttl.status().message());
        spec.settings.state_ttl_us = *ttl;
      }
    }
    auto sources = root["sources"];
    if (!sources || !sources.IsMap() || sources.size() == 0) {
      return Error(sources ? sources : root,
                   "a job needs a 'sources' mapping (name: {format, path})");
    }
    for (const auto& kv : sources) {
      connector::SourceSpec src;
      src.name = kv.first.as<std::string>();
      const auto& n = kv.second;
      std::string where = "source '" + src.name + "'";
      ARROW_RETURN_NOT_OK(CheckKeys(n, where,
                                    {"format", "path", "options", "on_error", "rejects",
                                     "columns", "event_time", "watermark"}));
      if (!n["path"]) return Error(n, where + " needs a path");
      ARROW_ASSIGN_OR_RAISE(src.path, Text(n["path"], where + ".path"));
      if (n["format"]) {
        ARROW_ASSIGN_OR_RAISE(src.format, Text(n["format"], where + ".format"));
      }
      if (n["on_error"]) {
        ARROW_ASSIGN_OR_RAISE(src.on_error, Text(n["on_error"], where + ".on_error"));
        if (src.on_error != "fail" && src.on_error != "skip" &&
            src.on_error != "reject") {
          return Error(n["on_error"], where + ".on_error must be fail, skip or reject");
        }
      }
      if (n["rejects"]) {
        ARROW_ASSIGN_OR_RAISE(src.rejects_path, Text(n["rejects"], where + ".rejects"));
      }
      if (n["options"]) {
        if (!n["options"].IsMap())
          return Error(n["options"], where + ".options must be a mapping");
        for (const auto& o : n["options"]) {
          ARROW_ASSIGN_OR_RAISE(
              auto v, Text(o.second, where + ".options." + o.first.as<std::string>()));
          src.options[o.first.as<std::string>()] = v;
        }
      }
      // Event time: the column and the watermark's bound (event_time_input.h).
      for (const char* key : {"event_time", "watermark"}) {
        if (n[key]) {
          ARROW_ASSIGN_OR_RAISE(src.options[key], Text(n[key], where + "." + key));
        }
      }
      if (n["columns"]) {
        // columns: {name: type, ...} or "name type, ..."
        const auto& c = n["columns"];
        std::string list;
        if (c.IsMap()) {
          for (const auto& col : c) {
            ARROW_ASSIGN_OR_RAISE(auto t, Text(col.second, where + ".columns"));
            list += (list.empty() ? "" : ", ") + col.first.as<std::string>() + " " + t;
          }
        } else {
          ARROW_ASSIGN_OR_RAISE(list, Text(c, where + ".columns"));
        }
        auto parsed = connector::ParseColumnList(list);
        if (!parsed.ok()) return Error(c, parsed.status().message());
        src.options["columns"] = list;
      }
      lines_[src.name] = n.Mark().line + 1;
      spec.sources.push_back(std::move(src));
    }
    if (auto steps = root["steps"]) {
      if (!steps.IsMap()) return Error(steps, "steps must be a mapping (name: SQL)");
      for (const auto& kv : steps) {
        StepSpec step;
        step.name = kv.first.as<std::string>();
        step.line = kv.second.Mark().line + 1;
        std::string where = "step '" + step.name + "'";
        if (kv.second.IsScalar()) {
          ARROW_ASSIGN_OR_RAISE(step.sql, Text(kv.second, where));
        } else {
          ARROW_RETURN_NOT_OK(CheckKeys(kv.second, where, {"sql", "materialize"}));
          if (!kv.second["sql"]) return Error(kv.second, where + " needs sql");
          ARROW_ASSIGN_OR_RAISE(step.sql, Text(kv.second["sql"], where + ".sql"));
          if (kv.second["materialize"]) {
            ARROW_ASSIGN_OR_RAISE(step.materialize,
                                  Text(kv.second["materialize"], where + ".materialize"));
            if (step.materialize != "auto" && step.materialize != "true" &&
                step.materialize != "false") {
              return Error(kv.second["materialize"],
                           where + ".materialize must be auto, true or false");
            }
          }
        }
        spec.steps.push_back(std::move(step));
      }
    }
    auto sinks = root["sinks"];
    if (!sinks || !sinks.IsSequence() || sinks.size() == 0) {
      return Error(sinks ? sinks : root,
                   "a job needs a 'sinks' list (- from: step, format: ..., path: ...)");
    }
    for (const auto& n : sinks) {
      SinkSpec sink;
      sink.line = n.Mark().line + 1;
      std::string where = fmt::format("sink at line {}", sink.line);
      ARROW_RETURN_NOT_OK(
          CheckKeys(n, where,
                    {"name", "from", "format", "path", "partition_by", "compression",
                     "row_group_rows", "title", "max_rows", "header", "delimiter",
                     "brokers", "key", "roll_rows", "roll_interval", "value_format"}));
      if (!n["from"]) return Error(n, where + " needs from: (a step or source name)");
      ARROW_ASSIGN_OR_RAISE(sink.from, Text(n["from"], where + ".from"));
      if (n["format"]) {
        ARROW_ASSIGN_OR_RAISE(sink.format, Text(n["format"], where + ".format"));
      }
      if (n["path"]) {
        ARROW_ASSIGN_OR_RAISE(sink.write.path, Text(n["path"], where + ".path"));
      }
      if (sink.format.empty()) {
        if (sink.write.path.empty()) return Error(n, where + " needs a format or a path");
        auto f = connector::FileFormatFromPath(sink.write.path);
        if (!f.ok()) return Error(n, f.status().message());
        sink.write.format = *f;
        sink.format = "file";
      } else if (sink.format != "terminal") {
        auto f = connector::ParseFileFormat(sink.format);
        if (!f.ok()) return Error(n["format"], f.status().message() + " or terminal");
        sink.write.format = *f;
        if (sink.write.path.empty()) return Error(n, where + " needs a path");
      }
      if (n["partition_by"]) {
        const auto& p = n["partition_by"];
        if (p.IsSequence()) {
          for (const auto& item : p) {
            ARROW_ASSIGN_OR_RAISE(auto t, Text(item, where + ".partition_by"));
            sink.write.partition_by.push_back(t);
          }
        } else {
          ARROW_ASSIGN_OR_RAISE(auto t, Text(p, where + ".partition_by"));
          sink.write.partition_by.push_back(t);
        }
      }
      if (n["compression"]) {
        ARROW_ASSIGN_OR_RAISE(sink.write.compression,
                              Text(n["compression"], where + ".compression"));
      }
      if (n["row_group_rows"]) {
        ARROW_ASSIGN_OR_RAISE(sink.write.row_group_rows,
                              Int(n["row_group_rows"], where + ".row_group_rows"));
      }
      if (n["roll_rows"]) {
        ARROW_ASSIGN_OR_RAISE(sink.write.roll_rows,
                              Int(n["roll_rows"], where + ".roll_rows"));
        if (sink.write.roll_rows <= 0) {
          return Error(n["roll_rows"], where + ".roll_rows must be a positive count");
        }
      }
      if (n["roll_interval"]) {
        ARROW_ASSIGN_OR_RAISE(auto t, Text(n["roll_interval"], where + ".roll_interval"));
        auto us = ParseDurationMicros(t, where + ".roll_interval");
        if (!us.ok()) return Error(n["roll_interval"], us.status().message());
        sink.write.roll_interval_us = *us;
      }
      if (n["title"]) {
        ARROW_ASSIGN_OR_RAISE(sink.title, Text(n["title"], where + ".title"));
      }
      if (n["max_rows"]) {
        ARROW_ASSIGN_OR_RAISE(sink.max_rows, Int(n["max_rows"], where + ".max_rows"));
      }
      if (n["header"]) {
        ARROW_ASSIGN_OR_RAISE(auto t, Text(n["header"], where + ".header"));
        ARROW_ASSIGN_OR_RAISE(sink.write.csv_header,
                              connector::ParseBoolOption("header", t));
      }
      if (n["delimiter"]) {
        ARROW_ASSIGN_OR_RAISE(auto t, Text(n["delimiter"], where + ".delimiter"));
        if (t.size() != 1)
          return Error(n["delimiter"], "delimiter must be one character");
        sink.write.csv_delimiter = t[0];
      }
      // Kafka: path is the topic (kafka/kafka_sink.h).
      if (n["brokers"]) {
        ARROW_ASSIGN_OR_RAISE(sink.write.kafka_brokers,
                              Text(n["brokers"], where + ".brokers"));
      }
      if (n["key"]) {
        ARROW_ASSIGN_OR_RAISE(sink.write.kafka_key, Text(n["key"], where + ".key"));
      }
      if (n["value_format"]) {
        ARROW_ASSIGN_OR_RAISE(auto f, Text(n["value_format"], where + ".value_format"));
        if (f != "json" && f != "csv") {
          return Error(n["value_format"], where + ".value_format is json or csv");
        }
        sink.write.kafka_csv_values = f == "csv";
      }
      const bool kafka =
          sink.write.format == connector::FileFormat::kKafka && sink.format != "terminal";
      if (kafka && sink.write.kafka_brokers.empty()) {
        return Error(n,
                     where + ": format kafka needs brokers: host:port (path: the topic)");
      }
      if (!kafka && (n["brokers"] || n["key"] || n["value_format"])) {
        return Error(n, where + ": brokers, key and value_format are for format kafka");
      }
      if ((kafka || sink.format == "terminal") &&
          (n["roll_rows"] || n["roll_interval"])) {
        return Error(n, where + ": roll_rows and roll_interval are for file sinks");
      }
      spec.sinks.push_back(std::move(sink));
    }
    return spec;
  }

 private:
  std::string path_;
  std::map<std::string, std::string> vars_;
  std::map<std::string, int> lines_;
};

// Applies a dotted override (settings.threads=4) to the YAML tree.
Status ApplyOverride(YAML::Node root, const std::string& key, const std::string& value,
                     const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = key.find('.', start);
    parts.push_back(
        key.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  std::vector<YAML::Node> chain = {root};
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    YAML::Node next = chain.back()[parts[i]];
    if (!next.IsDefined() || next.IsNull()) {
      // A section the file does not have (settings:, say) is created; the usual checks
      // then apply to the key.
      chain.back()[parts[i]] = YAML::Node(YAML::NodeType::Map);
      next = chain.back()[parts[i]];
    } else if (!next.IsMap()) {
      return Status::Invalid(path, ": --set ", key, ": '", parts[i],
                             "' is not a mapping");
    }
    chain.push_back(next);
  }
  chain.back()[parts.back()] = value;
  return Status::OK();
}

}  // namespace

Result<JobSpec> ParseJob(
    const std::string& text, const std::string& path,
    const std::vector<std::pair<std::string, std::string>>& overrides) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return Status::Invalid(
        fmt::format("{}:{}: invalid YAML: {}", path, e.mark.line + 1, e.msg));
  }
  std::map<std::string, std::string> vars;
  if (root.IsMap() && root["vars"]) {
    if (!root["vars"].IsMap()) {
      return Status::Invalid(fmt::format("{}:{}: vars must be a mapping", path,
                                         root["vars"].Mark().line + 1));
    }
    for (const auto& kv : root["vars"]) {
      if (!kv.second.IsScalar()) {
        return Status::Invalid(fmt::format("{}:{}: vars.{} must be a text value", path,
                                           kv.second.Mark().line + 1,
                                           kv.first.as<std::string>()));
      }
      vars[kv.first.as<std::string>()] = kv.second.as<std::string>();
    }
  }
  for (const auto& [k, v] : overrides) {
    if (k.find('.') == std::string::npos) {
      vars[k] = v;
    } else {
      ARROW_RETURN_NOT_OK(ApplyOverride(root, k, v, path));
    }
  }
  Parser parser(path, vars);
  try {
    return parser.Parse(root);
  } catch (const YAML::Exception& e) {
    return Status::Invalid(fmt::format("{}:{}: {}", path, e.mark.line + 1, e.msg));
  }
}

Result<JobSpec> LoadJob(
    const std::string& path,
    const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::ifstream in(path);
  if (!in) return Status::IOError("cannot read job file '", path, "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseJob(ss.str(), path, overrides);
}

}  // namespace sluice::job
