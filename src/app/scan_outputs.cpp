#include "ptyroi/app/scan_outputs.hpp"

#include "ptyroi/app/preview.hpp"
#include "ptyroi/app/summary.hpp"
#include "ptyroi/core/mpi.hpp"
#include "ptyroi/io/roi_writer.hpp"

namespace ptyroi {

void finish_scan_outputs(ScanRun& run, MPI_Comm comm) {
  const Options& options = run.options;
  const bool root = mpi::rank(comm) == 0;
  PreviewInput preview;
  if (!options.preview_dir.empty()) preview = gather_preview_input(run, comm);
  mpi::run_phase(comm, [&] {
    if (!root) return;
    if (!options.preview_dir.empty()) write_previews(preview, options.preview_dir);
    if (!options.summary_file.empty()) {
      run.outputs.push_back(PendingOutput::create(options.summary_file, options.overwrite));
      write_text_output_to(run.outputs.back(), summary_json(run));
    }
  });
  commit_outputs(run.outputs, comm);
}

}  // namespace ptyroi
