#include "ptyroi/io/plugin_threads.hpp"

#include <dlfcn.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>

namespace ptyroi {

namespace {

int ranks_on_this_node(MPI_Comm comm) {
  MPI_Comm node = MPI_COMM_NULL;
  if (MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) != MPI_SUCCESS) return 1;
  int size = 1;
  MPI_Comm_size(node, &size);
  MPI_Comm_free(&node);
  return std::max(size, 1);
}

int cores_of_this_rank() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(CPU_COUNT(&set), 1);
  return static_cast<int>(std::max(sysconf(_SC_NPROCESSORS_ONLN), 1L));
}

}  // namespace

int limit_plugin_threads(MPI_Comm comm) {
  const int local_ranks = ranks_on_this_node(comm);  // collective: every rank calls it
  if (std::getenv("OMP_NUM_THREADS") != nullptr) return 0;
  const int online = static_cast<int>(std::max(sysconf(_SC_NPROCESSORS_ONLN), 1L));
  // A rank bound to some cores keeps to them; an unbound one shares the node with its neighbours.
  const int threads = std::max(1, std::min(cores_of_this_rank(), online / local_ranks));
  setenv("OMP_NUM_THREADS", std::to_string(threads).c_str(), 0);
  // An OpenMP runtime already in the process read its environment when it was loaded.
  if (void* runtime = dlopen("libgomp.so.1", RTLD_LAZY | RTLD_NOLOAD)) {
    if (auto* set_threads = reinterpret_cast<void (*)(int)>(dlsym(runtime, "omp_set_num_threads"))) {
      set_threads(threads);
    }
    dlclose(runtime);
  }
  return threads;
}

}  // namespace ptyroi
