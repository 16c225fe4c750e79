#pragma once
// HDF5 filter plugins may run their own OpenMP threads: the bitshuffle plugin, built with OpenMP,
// spreads a chunk's blocks over all cores. With one MPI rank per core those threads would
// oversubscribe every core. (Debian's bitshuffle plugin is built without OpenMP — it links neither
// libgomp nor any GOMP_ symbol — and ptyroi decodes bitshuffle-LZ4 itself by default; the guard is
// for plugins found through HDF5_PLUGIN_PATH, e.g. hdf5plugin's, and for --decoder hdf5.)
#include <mpi.h>

namespace ptyroi {

// Collective over comm. Unless the user set OMP_NUM_THREADS, sets it to the cores this rank may
// run on shared by the ranks of its node (at least 1), so that an OpenMP runtime loaded later (with
// a plugin) starts with that many threads; an OpenMP runtime already loaded is told the same
// (omp_set_num_threads). Returns the thread count set, or 0 when OMP_NUM_THREADS was already set.
int limit_plugin_threads(MPI_Comm comm);

}  // namespace ptyroi
