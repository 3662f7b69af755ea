#include "sluice/base/input_file.h"

#include <arrow/io/compressed.h>
#include <arrow/io/file.h>
#include <arrow/util/compression.h>
#include <fnmatch.h>
#include <glob.h>

#include <algorithm>
#include <filesystem>

namespace sluice {

namespace fs = std::filesystem;

Result<Compression> ParseCompression(const std::string& text) {
  if (text == "auto") return Compression::kAuto;
  if (text == "none") return Compression::kNone;
  if (text == "gzip") return Compression::kGzip;
  if (text == "zstd") return Compression::kZstd;
  return Status::Invalid("compression must be auto, none, gzip or zstd, not '", text,
                         "'");
}

static bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Compression CompressionFromPath(const std::string& path) {
  if (EndsWith(path, ".gz")) return Compression::kGzip;
  if (EndsWith(path, ".zst") || EndsWith(path, ".zstd")) return Compression::kZstd;
  return Compression::kNone;
}

Result<std::shared_ptr<arrow::io::InputStream>> OpenInputStream(const std::string& path,
                                                                Compression compression) {
  auto file_result = arrow::io::ReadableFile::Open(path);
  if (!file_result.ok()) {
    return Status::IOError("cannot open '", path, "': ", file_result.status().message());
  }
  std::shared_ptr<arrow::io::InputStream> raw = *file_result;
  if (compression == Compression::kAuto) compression = CompressionFromPath(path);
  if (compression == Compression::kNone) return raw;
  arrow::Compression::type type = compression == Compression::kGzip
                                      ? arrow::Compression::GZIP
                                      : arrow::Compression::ZSTD;
  ARROW_ASSIGN_OR_RAISE(auto codec, arrow::util::Codec::Create(type));
  std::shared_ptr<arrow::util::Codec> shared_codec(std::move(codec));
  ARROW_ASSIGN_OR_RAISE(auto stream,
                        arrow::io::CompressedInputStream::Make(shared_codec.get(), raw));
  // The stream does not own the codec: keep it alive with the stream.
  struct Holder : arrow::io::InputStream {
    std::shared_ptr<arrow::util::Codec> codec;
    std::shared_ptr<arrow::io::CompressedInputStream> inner;
    Status Close() override { return inner->Close(); }
    bool closed() const override { return inner->closed(); }
    Result<int64_t> Tell() const override { return inner->Tell(); }
    Result<int64_t> Read(int64_t n, void* out) override { return inner->Read(n, out); }
    Result<std::shared_ptr<arrow::Buffer>> Read(int64_t n) override {
      return inner->Read(n);
    }
  };
  auto holder = std::make_shared<Holder>();
  holder->codec = shared_codec;
  holder->inner = stream;
  return holder;
}

Result<int64_t> FileSize(const std::string& path) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec) return Status::IOError("cannot stat '", path, "': ", ec.message());
  return static_cast<int64_t>(size);
}

static bool HasGlobChars(const std::string& s) {
  return s.find_first_of("*?[") != std::string::npos;
}

static bool Hidden(const fs::path& p) {
  std::string name = p.filename().string();
  return !name.empty() && (name[0] == '.' || name[0] == '_');
}

Result<std::vector<std::string>> ExpandPaths(const std::string& pattern) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!HasGlobChars(pattern)) {
    if (fs::is_directory(pattern, ec)) {
      for (auto it = fs::recursive_directory_iterator(pattern, ec);
           it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (Hidden(it->path())) {
          if (it->is_directory()) it.disable_recursion_pending();
          continue;
        }
        if (it->is_regular_file()) out.push_back(it->path().string());
      }
    } else if (fs::exists(pattern, ec)) {
      out.push_back(pattern);
    } else {
      return Status::IOError("no such file: '", pattern, "'");
    }
  } else if (pattern.find("**") != std::string::npos) {
    // Recursive glob: walk from the fixed prefix and match the rest with fnmatch
    // (FNM_PATHNAME off, so '*' also crosses '/').
    size_t star = pattern.find_first_of("*?[");
    size_t slash = pattern.rfind('/', star);
    std::string root = slash == std::string::npos ? "." : pattern.substr(0, slash);
    if (root.empty()) root = "/";
    for (auto it = fs::recursive_directory_iterator(root, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      std::string p = it->path().string();
      if (slash == std::string::npos && p.rfind("./", 0) == 0) p = p.substr(2);
      if (fnmatch(pattern.c_str(), p.c_str(), 0) == 0) out.push_back(p);
    }
  } else {
    glob_t g;
    int rc = glob(pattern.c_str(), 0, nullptr, &g);
    if (rc == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) {
        if (fs::is_regular_file(g.gl_pathv[i], ec)) out.push_back(g.gl_pathv[i]);
      }
    }
    globfree(&g);
  }
  if (out.empty()) return Status::IOError("no files match '", pattern, "'");
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace sluice
