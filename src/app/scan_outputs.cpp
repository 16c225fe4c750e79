#include "ptyroi/app/scan_outputs.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "ptyroi/app/plan_preview.hpp"
#include "ptyroi/app/preview.hpp"
#include "ptyroi/app/summary.hpp"
#include "ptyroi/core/error.hpp"
#include "ptyroi/core/mpi.hpp"
#include "ptyroi/core/roi_region.hpp"
#include "ptyroi/io/file_paths.hpp"
#include "ptyroi/io/partition_outputs.hpp"
#include "ptyroi/io/roi_writer.hpp"

namespace ptyroi {

namespace {

std::string preview_path(const std::string& directory, const std::string& name) {
  return (std::filesystem::path(directory) / name).string();
}

// The preview directory: an existing directory (its images are then checked like any output), or
// a name whose nearest existing ancestor is a directory ptyroi can create it in.
void check_preview_directory(const std::string& directory) {
  struct stat status {};
  if (stat(directory.c_str(), &status) == 0) {
    if (!S_ISDIR(status.st_mode)) {
      throw UsageError("--preview '" + directory + "' exists and is not a directory");
    }
    return;
  }
  std::error_code error;
  std::filesystem::path ancestor = std::filesystem::absolute(directory, error).lexically_normal();
  while (stat(ancestor.c_str(), &status) != 0 && ancestor != ancestor.parent_path()) ancestor = ancestor.parent_path();
  if (!S_ISDIR(status.st_mode) || access(ancestor.c_str(), W_OK | X_OK) != 0) {
    throw UsageError("--preview '" + directory + "' cannot be created: '" + ancestor.string() +
                     "' is not a writable directory" +
                     (S_ISDIR(status.st_mode) ? " (" + std::string(std::strerror(errno)) + ")" : ""));
  }
}

// Directories this run made for its outputs: removed again (when empty) unless the run commits.
class CreatedDirectories {
 public:
  CreatedDirectories() = default;
  CreatedDirectories(const CreatedDirectories&) = delete;
  CreatedDirectories& operator=(const CreatedDirectories&) = delete;
  ~CreatedDirectories() {
    for (auto it = created_.rbegin(); it != created_.rend(); ++it) rmdir(it->c_str());
  }
  // Creates `directory` and its missing parents, remembering each one made here.
  void make(const std::string& directory) {
    std::vector<std::filesystem::path> missing;
    for (std::filesystem::path p = std::filesystem::path(directory).lexically_normal(); !p.empty();
         p = p.parent_path()) {
      struct stat status {};
      if (stat(p.c_str(), &status) == 0) break;
      missing.push_back(p);
      if (p == p.parent_path()) break;
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
      if (mkdir(it->c_str(), 0777) == 0) {
        created_.push_back(it->string());
      } else if (errno != EEXIST) {
        throw IoError("cannot create the preview directory '" + it->string() + "': " + std::strerror(errno));
      }
    }
    struct stat status {};
    if (stat(directory.c_str(), &status) != 0 || !S_ISDIR(status.st_mode)) {
      throw IoError("cannot create the preview directory '" + directory + "': it exists and is not a directory");
    }
  }
  void keep() { created_.clear(); }

 private:
  std::vector<std::string> created_;
};

// Rank 0: the --plan CSV and, with --preview, plan.png and partitions.png, uncommitted.
void write_planning_outputs(ScanRun& run) {
  const Options& options = run.options;
  const Planning& planning = run.planning;
  if (!options.preview_dir.empty() && (planning.plan || planning.partitions)) {
    // The RoI region as the plan saw it; a --grid without positions counts in cells of 1.
    const ScanNeighbourhood& scan = *run.result.neighbourhood;
    const RoiRegion region = scan.step() > 0.0 ? RoiRegion::of_scan(planning.x, planning.y, planning.mask, scan)
                                               : RoiRegion::raster(planning.x, planning.y, planning.mask, 1.0, 1.0);
    PlanPreviewInput input;
    input.title = file_name_of(run.input_file);
    input.region = &region;
    input.plan = planning.plan ? &*planning.plan : nullptr;
    input.partitions = planning.partitions ? &*planning.partitions : nullptr;
    input.unit = planning.unit;
    std::vector<std::string> temporaries;
    for (const std::string& name : plan_preview_file_names(input.plan != nullptr, input.partitions != nullptr)) {
      run.outputs.push_back(PendingOutput::create(preview_path(options.preview_dir, name), options.overwrite));
      temporaries.push_back(run.outputs.back().temporary_path());
    }
    render_plan_previews(input, temporaries);
  }
  if (planning.plan) {
    run.outputs.push_back(PendingOutput::create(options.plan_file, options.overwrite));
    const std::string description = file_name_of(run.input_file) + ", RoI of " + std::to_string(run.result.roi_frames) +
                                    " frames at border " + std::to_string(run.result.parameters.border_steps);
    write_text_output_to(run.outputs.back(), fine_scan_plan_csv(*planning.plan, description));
  }
}

}  // namespace

std::vector<std::pair<std::string, std::string>> scan_output_files(const Options& options) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const std::string& path : roi_output(options).paths()) files.emplace_back("--output", path);
  if (!options.summary_file.empty()) files.emplace_back("--summary", options.summary_file);
  if (!options.preview_dir.empty()) {
    for (const std::string& name : preview_file_names()) {
      files.emplace_back("--preview", preview_path(options.preview_dir, name));
    }
    for (const std::string& name : plan_preview_file_names(!options.plan_file.empty(), options.partitions > 0)) {
      files.emplace_back("--preview", preview_path(options.preview_dir, name));
    }
  }
  if (!options.plan_file.empty()) files.emplace_back("--plan", options.plan_file);
  if (options.partition_files && options.partitions > 0 && !options.output_file.empty()) {
    for (int part = 0; part < options.partitions; ++part) {
      for (const std::string& path : partition_output(roi_output(options), part, options.partitions).paths()) {
        files.emplace_back("--partition-files", path);
      }
    }
  }
  return files;
}

void check_scan_outputs(const Options& options, const std::vector<std::string>& inputs) {
  const auto files = scan_output_files(options);
  check_distinct_outputs(files);
  if (!options.preview_dir.empty()) check_preview_directory(options.preview_dir);
  struct stat status {};
  const bool preview_directory_exists = !options.preview_dir.empty() && stat(options.preview_dir.c_str(), &status) == 0;
  for (const auto& [what, path] : files) {
    if (what == "--preview" && !preview_directory_exists) continue;  // a new directory holds nothing yet
    check_output_path(path, what.c_str(), options.overwrite, inputs);
  }
}

void finish_scan_outputs(ScanRun& run, MPI_Comm comm) {
  const Options& options = run.options;
  const bool root = mpi::rank(comm) == 0;
  PreviewInput preview;
  if (!options.preview_dir.empty()) preview = gather_preview_input(run, comm);
  CreatedDirectories directories;
  try {
    mpi::run_phase(comm, [&] {
      if (!root) return;
      if (!options.preview_dir.empty()) {
        directories.make(options.preview_dir);
        std::vector<std::string> temporaries;
        for (const std::string& name : preview_file_names()) {
          run.outputs.push_back(PendingOutput::create(preview_path(options.preview_dir, name),
                                                      options.overwrite || run.replaces_live_outputs));
          temporaries.push_back(run.outputs.back().temporary_path());
        }
        render_previews(preview, temporaries);
      }
      write_planning_outputs(run);
      if (!options.summary_file.empty()) {
        run.outputs.push_back(
            PendingOutput::create(options.summary_file, options.overwrite || run.replaces_live_outputs));
        write_text_output_to(run.outputs.back(), summary_json(run));
      }
    });
    commit_outputs(run.outputs, comm);
    directories.keep();
  } catch (...) {
    run.outputs.clear();  // the temporaries go first, then the directories made for them
    throw;
  }
}

}  // namespace ptyroi
