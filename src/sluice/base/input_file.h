#pragma once
// Opening input files that may be compressed, and expanding globs.
#include <arrow/io/interfaces.h>

#include <memory>
#include <string>
#include <vector>

#include "sluice/base/status.h"

namespace sluice {

enum class Compression { kAuto, kNone, kGzip, kZstd };

/// "auto" | "none" | "gzip" | "zstd" (case-sensitive).
Result<Compression> ParseCompression(const std::string& text);

/// Compression implied by a file name: ".gz" -> gzip, ".zst"/".zstd" -> zstd.
Compression CompressionFromPath(const std::string& path);

/// Opens `path` as a sequential byte stream, decompressing when `compression` says so
/// (kAuto: by file extension). Errors name the path.
Result<std::shared_ptr<arrow::io::InputStream>> OpenInputStream(const std::string& path,
                                                                Compression compression);

/// Size of the file on disk in bytes (compressed size for compressed files).
Result<int64_t> FileSize(const std::string& path);

/// Expands a path that may contain glob characters (*, ?, [..], and ** for any depth)
/// or name a directory (all regular files below it, recursively, skipping hidden files
/// and names starting with '_' or '.'). Returns sorted paths. No match is an error
/// naming the pattern.
Result<std::vector<std::string>> ExpandPaths(const std::string& pattern);

}  // namespace sluice
