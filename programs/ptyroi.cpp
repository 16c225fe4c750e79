// ptyroi: the region of interest of a ptychography scan, from its diffraction patterns alone.
//   ptyroi --input FILE [options]          one scan
//   ptyroi --input-list LIST [options]     a series, one scan after another on all ranks
//   ptyroi --follow --input FILE [options] live, while the scan is acquired (app/follow.hpp)
//   ptyroi inspect FILE [options]          what ptyroi sees in FILE, and the command it suggests
// A thin shell over the library (ptyroi/core, ptyroi/io) and the application layer (ptyroi/app).
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "ptyroi/app/follow.hpp"
#include "ptyroi/app/inspect.hpp"
#include "ptyroi/app/interrupt.hpp"
#include "ptyroi/app/options.hpp"
#include "ptyroi/app/scan_outputs.hpp"
#include "ptyroi/app/scan_run.hpp"
#include "ptyroi/app/series.hpp"
#include "ptyroi/app/summary.hpp"
#include "ptyroi/core/mpi.hpp"
#include "ptyroi/io/atomic_output.hpp"
#include "ptyroi/io/h5.hpp"
#include "ptyroi/io/roi_writer.hpp"
#include "ptyroi/version.hpp"

namespace {

// One scan: the method and the written (uncommitted) RoI files, then the previews and the summary;
// everything is committed together, so a failure anywhere leaves nothing behind.
ptyroi::ScanRun run_one_scan(const ptyroi::Options& options, MPI_Comm comm) {
  ptyroi::ScanRun run;
  if (options.follow) {
    // Live: the acquisition followed to its end, then the same outputs, committed the same way.
    run = ptyroi::follow_scan(options, comm);
  } else {
    run = ptyroi::run_scan(options, comm);
    ptyroi::finish_scan_outputs(run, comm);
  }
  // Said even with --quiet: it changes what the output means.
  if (run.result.whole_scan && ptyroi::mpi::rank(comm) == 0) {
    std::fprintf(stderr, "ptyroi: notice: %s\n", ptyroi::no_background_notice(run.result).c_str());
  }
  ptyroi::mpi::run_phase(comm, [&] {
    if (ptyroi::mpi::rank(comm) == 0 && !options.quiet) std::cout << ptyroi::summary_text(run) << std::flush;
  });
  return run;
}

// The series goes on past a failed scan; only a broken HDF5 library state ends it.
int run_series(const ptyroi::Options& options, MPI_Comm comm) {
  const bool root = ptyroi::mpi::rank(comm) == 0;
  std::vector<std::string> inputs;
  ptyroi::mpi::run_phase(comm, [&] {
    inputs = ptyroi::read_input_list(options.input_list);
    if (root) ptyroi::check_series_outputs(options, inputs);
  });
  std::vector<ptyroi::SeriesEntry> entries;
  const std::string summary_csv = ptyroi::series_summary_path(options);
  const std::string summary_json = ptyroi::series_summary_json_path(options);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const ptyroi::Options scan = ptyroi::series_scan_options(options, inputs[i]);
    ptyroi::SeriesEntry entry;
    entry.input = inputs[i];
    const double start = MPI_Wtime();
    if (root && !options.quiet)
      std::cout << "ptyroi: series scan " << i + 1 << " of " << inputs.size() << ": " << inputs[i] << "\n"
                << std::flush;
    try {
      const ptyroi::ScanRun run = run_one_scan(scan, comm);
      entry.ok = true;
      entry.frames = run.result.frames;
      entry.roi_frames = run.result.roi_frames;
      entry.output = ptyroi::roi_output(scan).paths().front();
    } catch (const std::exception& error) {
      entry.error = error.what();
      if (root) std::fprintf(stderr, "ptyroi: error: %s: %s (the series goes on)\n", inputs[i].c_str(), error.what());
      if (ptyroi::h5::library_state_broken()) throw;
    }
    entry.seconds = MPI_Wtime() - start;
    entries.push_back(entry);
    ptyroi::mpi::run_phase(comm, [&] {
      if (!root) return;
      ptyroi::write_text_output(summary_csv, ptyroi::series_csv(entries), true);
      ptyroi::write_text_output(summary_json, ptyroi::series_json(entries), true);
    });
  }
  std::size_t failed = 0;
  for (const auto& entry : entries) failed += entry.ok ? 0 : 1;
  if (root && !options.quiet) {
    std::cout << "ptyroi: series of " << entries.size() << " scans, " << failed << " failed; summary " << summary_csv
              << "\n";
  }
  return failed == 0 ? 0 : 1;
}

// "ptyroi inspect FILE ..." is "ptyroi --input FILE ..." shown, not run.
std::vector<const char*> inspect_arguments(int argc, char** argv) {
  std::vector<const char*> arguments{argv[0]};
  if (argc > 2 && argv[2][0] != '-') arguments.push_back("--input");
  for (int i = 2; i < argc; ++i) arguments.push_back(argv[i]);
  return arguments;
}

// cairo and fontconfig keep font caches for the whole process; freed at exit so that leak checkers
// see only real leaks.
struct PreviewCaches {
  PreviewCaches() = default;
  PreviewCaches(const PreviewCaches&) = delete;
  PreviewCaches& operator=(const PreviewCaches&) = delete;
  ~PreviewCaches() { ptyroi::release_preview_caches(); }
};

}  // namespace

int main(int argc, char** argv) {
  ptyroi::mpi::Session session(argc, argv);
  const PreviewCaches preview_caches;
  const MPI_Comm comm = MPI_COMM_WORLD;
  const bool root = ptyroi::mpi::rank(comm) == 0;
  ptyroi::h5::silence_error_printing();
  ptyroi::install_interrupt_handlers();
  const bool inspect = argc > 1 && std::strcmp(argv[1], "inspect") == 0;
  try {
    // Once the run is over (returned or thrown), it has said what happened: a later signal is quiet.
    struct EndNotices {
      EndNotices() = default;
      EndNotices(const EndNotices&) = delete;
      EndNotices& operator=(const EndNotices&) = delete;
      ~EndNotices() { ptyroi::end_interrupt_notices(); }
    } const end_notices;
    // Parsing is deterministic, so every rank reaches the same verdict without talking.
    const std::vector<const char*> arguments =
        inspect ? inspect_arguments(argc, argv) : std::vector<const char*>(argv, argv + argc);
    const ptyroi::CommandLine command_line =
        ptyroi::parse_command_line(static_cast<int>(arguments.size()), arguments.data());
    if (command_line.show_help || command_line.show_version) {
      if (root)
        std::cout << (command_line.show_help ? command_line.help_text
                                             : std::string("ptyroi ") + ptyroi::version + "\n");
      return 0;
    }
    const ptyroi::Options& options = command_line.options;
    if (inspect) {
      if (options.input_file.empty()) throw ptyroi::UsageError("inspect needs a file: ptyroi inspect FILE");
      ptyroi::mpi::run_phase(comm, [&] {
        if (root) std::cout << ptyroi::inspect_input(options) << std::flush;
      });
      return 0;
    }
    ptyroi::validate(options);
    if (!options.input_list.empty()) return run_series(options, comm);
    run_one_scan(options, comm);
    return 0;
  } catch (const std::exception& error) {
    const ptyroi::ErrorCategory category = ptyroi::category_of(error);
    if (root) {
      std::fprintf(stderr, "ptyroi: error: %s%s\n", ptyroi::one_line(error.what()).c_str(),
                   category == ptyroi::ErrorCategory::usage ? " (see ptyroi --help)" : "");
    }
    if (ptyroi::h5::library_state_broken()) {
      // Temporary files are already removed; skip MPI_Finalize, where HDF5 would crash.
      std::fflush(nullptr);
      std::_Exit(ptyroi::exit_status(category));
    }
    return ptyroi::exit_status(category);
  }
}
