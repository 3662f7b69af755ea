// sluice._sluice: the Python extension over the C++ API (src/sluice/api). The Python
// package (python/sluice/) wraps these classes in the public names; docs/python.md.
//
// Data crosses as Arrow through the C stream interface (PyCapsules named
// "arrow_array_stream" and "arrow_schema", the Arrow PyCapsule protocol): the engine
// and pyarrow load the same libarrow, so buffers are shared, never copied.
//
// Errors: an engine Status becomes sluice.SluiceError carrying its message (raised
// here as EngineError, which nanobind translates). Long calls (queries) run with the
// GIL released on a thread of their own while this thread waits and checks for
// signals: Ctrl-C stops the query (Session::StopRunning, as the CLI's first SIGINT does)
// and raises KeyboardInterrupt once it has stopped.
#include <arrow/array/util.h>
#include <arrow/c/abi.h>
#include <arrow/c/bridge.h>
#include <arrow/record_batch.h>
#include <arrow/table.h>
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <chrono>
#include <future>
#include <stdexcept>
#include <thread>

#include "sluice/api.h"
#include "sluice/expr/function_registry.h"

namespace nb = nanobind;

namespace sluice::python {
namespace {

struct EngineError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void Check(const Status& st) {
  if (!st.ok()) throw EngineError(st.ToString());
}

template <typename T>
T Unwrap(Result<T> r) {
  Check(r.status());
  return std::move(r).ValueUnsafe();
}

// Runs `fn` without the GIL on a thread of its own; this thread waits, checking for
// signals every 50 ms. A first KeyboardInterrupt (or any signal handler's exception)
// stops the session's running query as a first Ctrl-C stops the CLI's (a stream
// drains; a query over bounded input is cancelled); a second cancels it. Once the call
// has returned, the first exception propagates. Other sessions' queries and jobs run
// on.
template <typename T>
T RunInterruptibly(Session* session, std::function<Result<T>()> fn) {
  std::packaged_task<Result<T>()> task(std::move(fn));
  auto done = task.get_future();
  std::thread worker;
  {
    nb::gil_scoped_release release;
    worker = std::thread(std::move(task));
  }
  PyObject *type = nullptr, *value = nullptr, *traceback = nullptr;  // the first signal's
  while (true) {
    {
      nb::gil_scoped_release release;
      if (done.wait_for(std::chrono::milliseconds(50)) == std::future_status::ready)
        break;
    }
    if (PyErr_CheckSignals() == 0) continue;
    if (type == nullptr) {
      PyErr_Fetch(&type, &value, &traceback);
      session->StopRunning();
    } else {
      PyErr_Clear();
      session->CancelRunning();
    }
  }
  {
    nb::gil_scoped_release release;
    worker.join();
  }
  Result<T> result = done.get();
  if (type != nullptr) {
    PyErr_Restore(type, value, traceback);
    throw nb::python_error();
  }
  return Unwrap(std::move(result));
}

// The destructor of a capsule holding a C data interface struct `T` named `kName`:
// releases what the consumer did not move out, then frees the struct.
template <typename T, const char* kName>
void ReleaseCapsule(PyObject* capsule) {
  auto* c = static_cast<T*>(PyCapsule_GetPointer(capsule, kName));
  if (c == nullptr) {
    PyErr_Clear();
    return;
  }
  if (c->release != nullptr) c->release(c);
  delete c;
}

constexpr char kStreamCapsule[] = "arrow_array_stream";
constexpr char kSchemaCapsule[] = "arrow_schema";
constexpr char kArrayCapsule[] = "arrow_array";

// A table as an "arrow_array_stream" capsule (its batches, not copies).
nb::object TableToCapsule(const std::shared_ptr<arrow::Table>& table) {
  auto reader = std::make_shared<arrow::TableBatchReader>(table);
  auto* stream = new ArrowArrayStream;
  Status st = arrow::ExportRecordBatchReader(reader, stream);
  if (!st.ok()) {
    delete stream;
    Check(st);
  }
  return nb::steal(PyCapsule_New(stream, kStreamCapsule,
                                 ReleaseCapsule<ArrowArrayStream, kStreamCapsule>));
}

nb::object SchemaToCapsule(const arrow::Schema& schema) {
  auto* c = new ArrowSchema;
  Status st = arrow::ExportSchema(schema, c);
  if (!st.ok()) {
    delete c;
    Check(st);
  }
  return nb::steal(
      PyCapsule_New(c, kSchemaCapsule, ReleaseCapsule<ArrowSchema, kSchemaCapsule>));
}

// A C stream (from an "arrow_array_stream" capsule) as a table: the stream is moved out
// of the capsule and its batches kept as they are. Throws EngineError (call with or
// without the GIL: the translation happens once it is held again).
std::shared_ptr<arrow::Table> StreamToTable(ArrowArrayStream* stream) {
  auto reader = arrow::ImportRecordBatchReader(stream);
  if (!reader.ok()) throw EngineError(reader.status().ToString());
  auto table = (*reader)->ToTable();
  if (!table.ok()) throw EngineError(table.status().ToString());
  return *table;
}

JoinType JoinTypeOf(const std::string& how) {
  if (how == "inner") return JoinType::kInner;
  if (how == "left") return JoinType::kLeft;
  if (how == "right") return JoinType::kRight;
  if (how == "full" || how == "outer") return JoinType::kFull;
  if (how == "semi") return JoinType::kSemi;
  if (how == "anti") return JoinType::kAnti;
  throw nb::value_error(
      ("join: how must be inner, left, right, full, semi, anti or cross, not '" + how +
       "'")
          .c_str());
}

OnError OnErrorOf(const std::string& s) {
  if (s == "fail") return OnError::kFail;
  if (s == "skip") return OnError::kSkip;
  if (s == "reject") return OnError::kReject;
  throw nb::value_error(
      ("on_error must be fail, skip or reject, not '" + s + "'").c_str());
}

// The options CSV and JSON readers share.
template <typename Options>
void SetTextOptions(Options* o, ColumnTypes columns, ColumnTypes types,
                    std::string compression, int64_t infer_rows,
                    const std::string& on_error, std::string rejects) {
  o->columns = std::move(columns);
  o->types = std::move(types);
  o->compression = std::move(compression);
  o->infer_rows = infer_rows;
  o->on_error = OnErrorOf(on_error);
  o->rejects = std::move(rejects);
}

char OneChar(const std::string& s, const char* what, bool allow_empty = false) {
  if (s.empty() && allow_empty) return '\0';
  if (s.size() != 1) {
    throw nb::value_error((std::string(what) + " must be one character").c_str());
  }
  return s[0];
}

WriteOptions WriteOptionsOf(std::vector<std::string> partition_by,
                            std::string compression, int64_t row_group_rows, bool header,
                            std::string delimiter) {
  WriteOptions o;
  o.partition_by = std::move(partition_by);
  o.compression = std::move(compression);
  o.row_group_rows = row_group_rows;
  o.header = header;
  o.delimiter = OneChar(delimiter, "delimiter");
  return o;
}

// ---- Python functions (UDFs) ------------------------------------------------------

// A Python object kept by the engine (in a FunctionDef, on any thread): released with
// the GIL held, and only while the interpreter lives (ClearUserFunctions at exit
// releases them first).
std::shared_ptr<nb::object> KeepObject(nb::object o) {
  return std::shared_ptr<nb::object>(new nb::object(std::move(o)), [](nb::object* p) {
    if (Py_IsInitialized()) {
      nb::gil_scoped_acquire gil;
      delete p;
    }
  });
}

// An engine array as a pyarrow.Array (C data interface: the same buffers).
nb::object ArrayToPython(const std::shared_ptr<arrow::Array>& array,
                         nb::handle pa_array) {
  auto* c_array = new ArrowArray;
  auto* c_schema = new ArrowSchema;
  Status st = arrow::ExportArray(*array, c_array, c_schema);
  if (!st.ok()) {
    delete c_array;
    delete c_schema;
    Check(st);
  }
  nb::object schema_capsule = nb::steal(PyCapsule_New(
      c_schema, kSchemaCapsule, ReleaseCapsule<ArrowSchema, kSchemaCapsule>));
  nb::object array_capsule = nb::steal(
      PyCapsule_New(c_array, kArrayCapsule, ReleaseCapsule<ArrowArray, kArrayCapsule>));
  return pa_array.attr("_import_from_c_capsule")(schema_capsule, array_capsule);
}

// A Python function's result (anything with __arrow_c_array__) as an engine array.
Result<std::shared_ptr<arrow::Array>> ArrayFromPython(nb::handle result) {
  if (!nb::hasattr(result, "__arrow_c_array__")) {
    return Status::TypeError("returned a ", nb::type_name(result.type()).c_str(),
                             ", not an Arrow array (pyarrow.Array)");
  }
  nb::object exported = result.attr("__arrow_c_array__")();
  if (!nb::isinstance<nb::tuple>(exported) || nb::len(exported) != 2) {
    return Status::TypeError("__arrow_c_array__() did not return (schema, array)");
  }
  nb::tuple capsules = nb::borrow<nb::tuple>(exported);
  auto* c_schema =
      static_cast<ArrowSchema*>(PyCapsule_GetPointer(capsules[0].ptr(), kSchemaCapsule));
  auto* c_array =
      static_cast<ArrowArray*>(PyCapsule_GetPointer(capsules[1].ptr(), kArrayCapsule));
  if (c_schema == nullptr || c_array == nullptr) throw nb::python_error();
  return arrow::ImportArray(c_array, c_schema);
}

void RegisterFunction(const std::string& name, nb::object fn, nb::object return_type,
                      int min_args, int max_args) {
  // The declared result type, from pyarrow's schema capsule.
  nb::object type_capsule = return_type.attr("__arrow_c_schema__")();
  auto* c_type =
      static_cast<ArrowSchema*>(PyCapsule_GetPointer(type_capsule.ptr(), kSchemaCapsule));
  if (c_type == nullptr) throw nb::python_error();
  std::shared_ptr<arrow::DataType> type = Unwrap(arrow::ImportType(c_type));
  std::shared_ptr<nb::object> kept = KeepObject(std::move(fn));

  expr::FunctionDef def;
  def.name = name;
  def.min_args = min_args;
  def.max_args = max_args;
  def.bind = [type](std::shared_ptr<expr::ExprNode> call) -> Result<expr::Expr> {
    call->type = type;
    return expr::Expr(call);
  };
  def.eval = [kept, type, name](const expr::ExprNode&, std::vector<arrow::Datum>& args,
                                const expr::EvalContext& ctx) -> Result<arrow::Datum> {
    arrow::ArrayVector arrays;
    for (auto& a : args) {
      if (a.is_scalar()) {
        ARROW_ASSIGN_OR_RAISE(auto arr,
                              arrow::MakeArrayFromScalar(*a.scalar(), ctx.num_rows));
        arrays.push_back(std::move(arr));
      } else {
        arrays.push_back(a.make_array());
      }
    }
    // Engine threads take the GIL in turn: Python functions run one at a time.
    nb::gil_scoped_acquire gil;
    std::shared_ptr<arrow::Array> out;
    try {
      nb::object pa_array = nb::module_::import_("pyarrow").attr("Array");
      nb::list py_args;
      for (const auto& arr : arrays) py_args.append(ArrayToPython(arr, pa_array));
      nb::object result = (*kept)(*py_args);
      auto imported = ArrayFromPython(result);
      if (!imported.ok()) {
        return Status::Invalid("Python function ", name,
                               "(): ", imported.status().message());
      }
      out = *imported;
    } catch (nb::python_error& e) {
      return Status::Invalid("Python function ", name, "() raised an exception:\n",
                             e.what());
    } catch (std::exception& e) {
      // Nothing may leave into the engine's threads.
      return Status::Invalid("Python function ", name, "(): ", e.what());
    }
    if (out->length() != ctx.num_rows) {
      return Status::Invalid("Python function ", name, "() returned ", out->length(),
                             " values for ", ctx.num_rows, " rows");
    }
    if (!out->type()->Equals(*type)) {
      return Status::TypeError("Python function ", name, "() returned ",
                               out->type()->ToString(), ", declared ", type->ToString());
    }
    return arrow::Datum(out);
  };
  Check(expr::RegisterUserFunction(std::move(def)));
}

// A window frame bound by its kind ("unbounded_preceding", "preceding", "current",
// "following", "unbounded_following") and, for the two with an offset, the offset: an
// int, a float, or ("duration_us", n).
plan::FrameBound BoundOf(const std::string& kind, nb::handle offset) {
  using K = plan::FrameBoundKind;
  if (kind == "current") return plan::FrameBound(K::kCurrentRow);
  if (kind == "unbounded_preceding") return plan::FrameBound(K::kUnboundedPreceding);
  if (kind == "unbounded_following") return plan::FrameBound(K::kUnboundedFollowing);
  std::shared_ptr<arrow::Scalar> n;
  if (nb::isinstance<nb::tuple>(offset)) {
    n = std::make_shared<arrow::DurationScalar>(nb::cast<int64_t>(offset[1]),
                                                arrow::TimeUnit::MICRO);
  } else if (nb::isinstance<float>(offset)) {
    n = std::make_shared<arrow::DoubleScalar>(nb::cast<double>(offset));
  } else {
    n = std::make_shared<arrow::Int64Scalar>(nb::cast<int64_t>(offset));
  }
  if (kind == "preceding") return plan::FrameBound(K::kPreceding, n);
  if (kind == "following") return plan::FrameBound(K::kFollowing, n);
  throw nb::value_error(("unknown frame bound " + kind).c_str());
}

Expr Literal(nb::handle value) {
  if (value.is_none()) return lit_null();
  if (nb::isinstance<bool>(value)) return lit(nb::cast<bool>(value));
  if (nb::isinstance<int>(value)) {
    int64_t v;
    if (!nb::try_cast(value, v)) throw nb::value_error("integer literal out of range");
    return lit(v);
  }
  if (nb::isinstance<float>(value)) return lit(nb::cast<double>(value));
  if (nb::isinstance<nb::str>(value)) return lit(nb::cast<std::string>(value));
  throw nb::type_error("lit: a literal is None, bool, int, float or str");
}

}  // namespace

NB_MODULE(_sluice, m) {
  m.doc() = "The Sluice engine (use the sluice package, not this module).";
  nb::exception<EngineError>(m, "SluiceError");

  nb::class_<Expr>(m, "Expr")
      .def("__repr__", &Expr::ToString)
      .def("alias", &Expr::alias)
      .def("is_null", &Expr::is_null)
      .def("is_not_null", &Expr::is_not_null)
      .def("cast", nb::overload_cast<const std::string&>(&Expr::cast, nb::const_))
      .def("try_cast", nb::overload_cast<const std::string&>(&Expr::try_cast, nb::const_))
      .def("like", &Expr::like)
      .def("ilike", &Expr::ilike)
      .def("error", [](const Expr& e) -> std::optional<std::string> {
        if (e.status().ok()) return std::nullopt;
        return e.status().ToString();
      });

  m.def("register_function", &RegisterFunction);
  m.def("clear_functions", [] { expr::ClearUserFunctions(); });
  m.def("col", &col);
  m.def("lit", &Literal);
  // An INTERVAL literal (SQL's month-day-nanosecond interval).
  m.def("lit_interval", [](int32_t months, int32_t days, int64_t nanos) {
    return lit(std::make_shared<arrow::MonthDayNanoIntervalScalar>(
        arrow::MonthDayNanoIntervalType::MonthDayNanos{months, days, nanos}));
  });
  m.def("lit_typed", [](nb::handle value, const std::string& type) {
    return Literal(value).cast(type);
  });
  // Every function and operator of SQL by its name: call("+", [a, b]), call("lower",
  // [x]); aggregates with aggregate().
  m.def("call", [](const std::string& name, const std::vector<Expr>& args) {
    return Expr::MakeCall(name, args);
  });
  m.def("aggregate", [](const std::string& name, const std::vector<Expr>& args,
                        bool distinct) { return aggregate(name, args, distinct); });
  m.def("count_star", []() { return count_star(); });
  m.def("negate", [](const Expr& e) { return -e; });
  m.def("logical_not", [](const Expr& e) { return !e; });
  m.def("binary", [](const std::string& op, const Expr& a, const Expr& b) -> Expr {
    if (op == "+") return a + b;
    if (op == "-") return a - b;
    if (op == "*") return a * b;
    if (op == "/") return a / b;
    if (op == "%") return a % b;
    if (op == "==") return a == b;
    if (op == "!=") return a != b;
    if (op == "<") return a < b;
    if (op == "<=") return a <= b;
    if (op == ">") return a > b;
    if (op == ">=") return a >= b;
    if (op == "&") return a && b;
    if (op == "|") return a || b;
    throw nb::value_error(("unknown operator " + op).c_str());
  });
  m.def("isin", [](const Expr& e, const std::vector<Expr>& values) {
    std::vector<Operand> ops(values.begin(), values.end());
    return e.isin(ops);
  });
  m.def("between",
        [](const Expr& e, const Expr& lo, const Expr& hi) { return e.between(lo, hi); });
  m.def(
      "case_when",
      [](const std::vector<std::pair<Expr, Expr>>& branches,
         std::optional<Expr> otherwise) -> Expr {
        if (branches.empty()) throw nb::value_error("when: at least one condition");
        CaseBuilder b = when(branches[0].first).then(branches[0].second);
        for (size_t i = 1; i < branches.size(); ++i) {
          b = b.when(branches[i].first).then(branches[i].second);
        }
        return otherwise ? b.otherwise(*otherwise) : b.end();
      },
      nb::arg("branches"), nb::arg("otherwise").none());

  nb::class_<Frame>(m, "Frame")
      .def("error",
           [](const Frame& f) -> std::optional<std::string> {
             if (f.ok()) return std::nullopt;
             return f.status().ToString();
           })
      .def("schema", [](const Frame& f) { return SchemaToCapsule(*Unwrap(f.schema())); })
      .def("filter", &Frame::filter)
      .def("select", &Frame::select)
      .def("with_columns", &Frame::with_columns)
      .def("drop", &Frame::drop)
      .def("rename", &Frame::rename)
      .def("group_agg",
           [](const Frame& f, const std::vector<Expr>& keys,
              const std::vector<Expr>& aggs) { return f.group_by(keys).agg(aggs); })
      .def("agg", &Frame::agg)
      .def(
          "join_on",
          [](const Frame& l, const Frame& r, const std::vector<std::string>& on,
             const std::string& how, std::optional<Expr> condition) {
            return l.join(r, on, JoinTypeOf(how), condition.value_or(Expr()));
          },
          nb::arg("right"), nb::arg("on"), nb::arg("how"), nb::arg("condition").none())
      .def(
          "join_exprs",
          [](const Frame& l, const Frame& r, const std::vector<Expr>& left_on,
             const std::vector<Expr>& right_on, const std::string& how,
             std::optional<Expr> condition) {
            return l.join(r, left_on, right_on, JoinTypeOf(how),
                          condition.value_or(Expr()));
          },
          nb::arg("right"), nb::arg("left_on"), nb::arg("right_on"), nb::arg("how"),
          nb::arg("condition").none())
      .def("sort",
           [](const Frame& f, const std::vector<Expr>& keys,
              const std::vector<bool>& descending,
              const std::vector<std::optional<bool>>& nulls_first) {
             std::vector<SortSpec> specs;
             for (size_t i = 0; i < keys.size(); ++i) {
               SortSpec s(keys[i]);
               if (descending[i]) s = s.desc();
               if (nulls_first[i]) s = *nulls_first[i] ? s.nulls_first() : s.nulls_last();
               specs.push_back(s);
             }
             return f.sort(specs);
           })
      .def(
          "window",
          [](const Frame& f, const std::vector<Expr>& functions,
             const std::vector<Expr>& partition_by, const std::vector<Expr>& order_by,
             const std::vector<bool>& descending,
             const std::vector<std::optional<bool>>& nulls_first, nb::object frame) {
            WindowOver over;
            over.partition_by = partition_by;
            for (size_t i = 0; i < order_by.size(); ++i) {
              SortSpec s(order_by[i]);
              if (descending[i]) s = s.desc();
              if (nulls_first[i]) s = *nulls_first[i] ? s.nulls_first() : s.nulls_last();
              over.order_by.push_back(s);
            }
            if (!frame.is_none()) {
              // (unit, start kind, start offset, end kind, end offset)
              nb::tuple t = nb::cast<nb::tuple>(frame);
              plan::WindowFrame w;
              w.unit = nb::cast<std::string>(t[0]) == "rows" ? plan::FrameUnit::kRows
                                                             : plan::FrameUnit::kRange;
              w.start = BoundOf(nb::cast<std::string>(t[1]), t[2]);
              w.end = BoundOf(nb::cast<std::string>(t[3]), t[4]);
              w.is_default = false;
              over.frame = w;
            }
            return f.window(functions, over);
          },
          nb::arg("functions"), nb::arg("partition_by"), nb::arg("order_by"),
          nb::arg("descending"), nb::arg("nulls_first"), nb::arg("frame").none())
      .def("limit", &Frame::limit, nb::arg("n"), nb::arg("offset") = 0)
      .def("distinct", &Frame::distinct)
      .def("union", &Frame::union_, nb::arg("other"), nb::arg("all") = true)
      .def("collect",
           [](const Frame& f) {
             auto table = RunInterruptibly<std::shared_ptr<arrow::Table>>(
                 f.session().get(), [f] { return f.collect(); });
             return TableToCapsule(table);
           })
      .def("count",
           [](const Frame& f) {
             return RunInterruptibly<int64_t>(f.session().get(),
                                              [f] { return f.count(); });
           })
      .def("write",
           [](const Frame& f, const std::string& format, const std::string& path,
              std::vector<std::string> partition_by, std::string compression,
              int64_t row_group_rows, bool header, std::string delimiter) {
             WriteOptions o =
                 WriteOptionsOf(std::move(partition_by), std::move(compression),
                                row_group_rows, header, std::move(delimiter));
             return RunInterruptibly<int64_t>(
                 f.session().get(), [f, format, path, o]() -> Result<int64_t> {
                   if (format == "parquet") return f.write_parquet(path, o);
                   if (format == "csv") return f.write_csv(path, o);
                   if (format == "json") return f.write_json(path, o);
                   if (format == "arrow") return f.write_arrow(path, o);
                   return Status::Invalid("unknown format ", format);
                 });
           })
      .def("explain",
           [](const Frame& f, bool analyze) {
             return RunInterruptibly<std::string>(
                 f.session().get(), [f, analyze] { return f.explain(analyze); });
           })
      .def("to_string", [](const Frame& f, int64_t max_rows) {
        return RunInterruptibly<std::string>(
            f.session().get(), [f, max_rows] { return f.to_string(max_rows); });
      });

  nb::class_<Job>(m, "Job")
      .def("status",
           [](const Job& j) {
             JobStatus s = j.status();
             nb::dict d;
             d["running"] = s.running;
             d["rows_read"] = s.rows_read;
             d["rows_out"] = s.rows_out;
             d["rows_late"] = s.rows_late;
             d["rows_rejected"] = s.rows_rejected;
             d["watermark_us"] =
                 s.watermark_us == INT64_MIN ? nb::none() : nb::cast(s.watermark_us);
             d["seconds"] = s.seconds;
             d["error"] = s.error.empty() ? nb::none() : nb::cast(s.error);
             return d;
           })
      .def("stop", &Job::Stop)
      .def("abort", &Job::Abort)
      .def("statement", &Job::statement)
      // Waits up to `seconds` (negative: forever) without the GIL; true once finished.
      .def("wait_for",
           [](Job& j, double seconds) {
             nb::gil_scoped_release release;
             return j.WaitFor(std::chrono::milliseconds(
                 seconds < 0 ? -1 : static_cast<int64_t>(seconds * 1000)));
           })
      .def("result", [](Job& j) {
        Result<int64_t> r = [&] {
          nb::gil_scoped_release release;
          return j.Wait();
        }();
        return Unwrap(std::move(r));
      });

  nb::class_<Session>(m, "Session")
      .def_static(
          "make",
          [](int threads, int64_t memory_limit, int64_t batch_rows) {
            SessionOptions o;
            o.threads = threads;
            o.memory_limit = memory_limit;
            o.batch_rows = batch_rows;
            return Unwrap(Session::Make(o));
          },
          nb::arg("threads") = 0, nb::arg("memory_limit") = 0,
          nb::arg("batch_rows") = 65536)
      .def(
          "read_parquet",
          [](Session& s, const std::string& path, bool hive_partitioning) {
            ParquetReadOptions o;
            o.hive_partitioning = hive_partitioning;
            return s.read_parquet(path, o);
          },
          nb::call_guard<nb::gil_scoped_release>())
      .def(
          "read_csv",
          [](Session& s, const std::string& path, bool header,
             const std::string& delimiter, const std::string& quote,
             const std::string& escape, ColumnTypes columns, ColumnTypes types,
             std::vector<std::string> null_values, std::string timestamp_format,
             std::string compression, int64_t infer_rows, const std::string& on_error,
             std::string rejects) {
            CsvReadOptions o;
            o.header = header;
            o.delimiter = OneChar(delimiter, "delimiter");
            o.quote = OneChar(quote, "quote");
            o.escape = OneChar(escape, "escape", true);
            o.null_values = std::move(null_values);
            o.timestamp_format = std::move(timestamp_format);
            SetTextOptions(&o, std::move(columns), std::move(types),
                           std::move(compression), infer_rows, on_error,
                           std::move(rejects));
            return s.read_csv(path, o);
          },
          nb::call_guard<nb::gil_scoped_release>())
      .def(
          "read_json",
          [](Session& s, const std::string& path, ColumnTypes columns, ColumnTypes types,
             std::string compression, int64_t infer_rows, const std::string& on_error,
             std::string rejects) {
            JsonReadOptions o;
            SetTextOptions(&o, std::move(columns), std::move(types),
                           std::move(compression), infer_rows, on_error,
                           std::move(rejects));
            return s.read_json(path, o);
          },
          nb::call_guard<nb::gil_scoped_release>())
      .def("read_arrow", &Session::read_arrow, nb::call_guard<nb::gil_scoped_release>())
      .def("from_stream",
           [](Session& s, nb::handle capsule, const std::string& name) {
             auto* stream = static_cast<ArrowArrayStream*>(
                 PyCapsule_GetPointer(capsule.ptr(), kStreamCapsule));
             if (stream == nullptr) throw nb::python_error();
             // Reading may call back into a Python producer, which takes the GIL.
             nb::gil_scoped_release release;
             return s.from_arrow(StreamToTable(stream), name);
           })
      // Statements may run queries (CREATE TABLE ... AS, COPY): as actions do.
      .def("sql",
           [](Session& s, const std::string& query) {
             std::shared_ptr<Session> self = s.shared_from_this();
             return RunInterruptibly<Frame>(self.get(), [self, query]() -> Result<Frame> {
               return self->sql(query);
             });
           })
      .def("start",
           [](Session& s, const std::string& statement) {
             Result<std::shared_ptr<Job>> job = [&] {
               nb::gil_scoped_release release;
               return s.Start(statement);
             }();
             return Unwrap(std::move(job));
           })
      .def("register",
           [](Session& s, const std::string& name, const Frame& f) {
             Status st;
             {
               nb::gil_scoped_release release;
               st = s.Register(name, f);
             }
             Check(st);
           })
      .def("inputs", [](Session& s) {
        std::vector<InputStats> inputs;
        {
          nb::gil_scoped_release release;
          inputs = s.inputs();
        }
        nb::list out;
        for (const auto& in : inputs) {
          nb::dict d;
          d["name"] = in.name;
          d["rows_read"] = in.rows_read;
          d["rows_rejected"] = in.rows_rejected;
          d["rejects_path"] = in.rejects_path;
          out.append(d);
        }
        return out;
      });
}

}  // namespace sluice::python
