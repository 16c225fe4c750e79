// ptyroi: the region of interest of a ptychography scan, from its diffraction patterns alone.
#include <cstdio>
#include <iostream>

#include "ptyroi/h5.hpp"
#include "ptyroi/interrupt.hpp"
#include "ptyroi/mpi.hpp"
#include "ptyroi/options.hpp"
#include "ptyroi/pipeline.hpp"
#include "ptyroi/summary.hpp"
#include "ptyroi/version.hpp"

int main(int argc, char** argv) {
  ptyroi::mpi::Session session(argc, argv);
  const MPI_Comm comm = MPI_COMM_WORLD;
  const bool root = ptyroi::mpi::rank(comm) == 0;
  ptyroi::h5::silence_error_printing();
  ptyroi::install_interrupt_handlers();
  try {
    // Parsing is deterministic, so every rank reaches the same verdict without talking.
    const ptyroi::CommandLine command_line = ptyroi::parse_command_line(argc, argv);
    if (command_line.show_help || command_line.show_version) {
      if (root)
        std::cout << (command_line.show_help ? command_line.help_text
                                             : std::string("ptyroi ") + ptyroi::version + "\n");
      return 0;
    }
    const ptyroi::Options& options = command_line.options;
    ptyroi::validate(options);
    const ptyroi::RoiRun run = ptyroi::run_pipeline(options, comm);
    ptyroi::mpi::run_phase(comm, [&] {
      if (!root) return;
      if (!options.summary_file.empty()) ptyroi::write_text_file(options.summary_file, ptyroi::summary_json(run));
      if (!options.quiet) std::cout << ptyroi::summary_text(run) << std::flush;
    });
    return 0;
  } catch (const ptyroi::UsageError& error) {
    if (root) std::fprintf(stderr, "ptyroi: error: %s (see ptyroi --help)\n", error.what());
    return 2;
  } catch (const std::exception& error) {
    if (root) std::fprintf(stderr, "ptyroi: error: %s\n", error.what());
    if (ptyroi::h5::library_state_broken()) {
      // Temporary files are already removed; skip MPI_Finalize, where HDF5 would crash.
      std::fflush(nullptr);
      std::_Exit(1);
    }
    return 1;
  }
}
