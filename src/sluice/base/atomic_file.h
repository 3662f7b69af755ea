#pragma once
// Atomic publication of output files: write under a temporary name in the target
// directory, then rename over the final name when complete. A job that fails or is
// killed leaves no half-written file under a final name (only ".sluice-tmp-*" files,
// which a later run of the same sink removes).
#include <string>

#include "sluice/base/status.h"

namespace sluice {

/// A unique temporary path in the same directory as `final_path`
/// ("dir/.sluice-tmp-<pid>-<n>-<name>").
std::string TempPathFor(const std::string& final_path);

/// fsyncs `temp_path` and renames it to `final_path` (replacing it).
Status PublishTempFile(const std::string& temp_path, const std::string& final_path);

/// Removes leftover temporary files of earlier failed runs from `dir` (files of
/// processes that are still running, this one included, are kept). `recursive`: from
/// its subdirectories too (a partitioned output); a single file's directory is looked
/// at alone, since it may be a large tree that is none of the sink's business (/tmp).
void RemoveStaleTempFiles(const std::string& dir, bool recursive = true);

}  // namespace sluice
