#include "ptyroi/core/mpi.hpp"

#include <time.h>

#include <algorithm>
#include <limits>
#include <new>

namespace ptyroi::mpi {

namespace {
void check(int status, const char* what) {
  if (status != MPI_SUCCESS) throw IoError(std::string("MPI call failed: ") + what);
}
}  // namespace

int rank(MPI_Comm comm) {
  int value = 0;
  check(MPI_Comm_rank(comm, &value), "MPI_Comm_rank");
  return value;
}

int size(MPI_Comm comm) {
  int value = 0;
  check(MPI_Comm_size(comm, &value), "MPI_Comm_size");
  return value;
}

Session::Session(int& argc, char**& argv) { MPI_Init(&argc, &argv); }
Session::~Session() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

namespace {

// Completes a non-blocking request, sleeping between tests (50 µs, doubling to 5 ms).
void wait_sleeping(MPI_Request& request) {
  long pause_ns = 50'000;
  for (;;) {
    int done = 0;
    check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    if (done) return;
    const timespec pause{0, pause_ns};
    nanosleep(&pause, nullptr);
    pause_ns = std::min(pause_ns * 2, 5'000'000L);
  }
}

void agree(MPI_Comm comm, const std::function<void()>& phase, bool sleeping) {
  std::string message;
  int category = -1;
  try {
    phase();
  } catch (const std::bad_alloc&) {
    category = static_cast<int>(ErrorCategory::io);
    message = "out of memory on rank " + std::to_string(rank(comm));
  } catch (const std::exception& error) {
    category = static_cast<int>(category_of(error));
    message = error.what();
  }
  const int me = rank(comm);
  int first_failing = category >= 0 ? me : std::numeric_limits<int>::max();
  if (sleeping) {
    MPI_Request request = MPI_REQUEST_NULL;
    check(MPI_Iallreduce(MPI_IN_PLACE, &first_failing, 1, MPI_INT, MPI_MIN, comm, &request), "MPI_Iallreduce");
    wait_sleeping(request);
  } else {
    check(MPI_Allreduce(MPI_IN_PLACE, &first_failing, 1, MPI_INT, MPI_MIN, comm), "MPI_Allreduce");
  }
  if (first_failing == std::numeric_limits<int>::max()) return;
  check(MPI_Bcast(&category, 1, MPI_INT, first_failing, comm), "MPI_Bcast");
  message = broadcast(comm, first_failing, message);
  throw_error(static_cast<ErrorCategory>(category), message);
}

}  // namespace

void run_phase(MPI_Comm comm, const std::function<void()>& phase) { agree(comm, phase, false); }

void run_phase_sleeping(MPI_Comm comm, const std::function<void()>& phase) { agree(comm, phase, true); }

std::string broadcast_sleeping(MPI_Comm comm, int root, const std::string& text) {
  long long length = static_cast<long long>(text.size());
  MPI_Request request = MPI_REQUEST_NULL;
  check(MPI_Ibcast(&length, 1, MPI_LONG_LONG, root, comm, &request), "MPI_Ibcast");
  wait_sleeping(request);
  std::string received = rank(comm) == root ? text : std::string(static_cast<std::size_t>(length), '\0');
  if (length > 0) {
    check(MPI_Ibcast(received.data(), static_cast<int>(length), MPI_CHAR, root, comm, &request), "MPI_Ibcast");
    wait_sleeping(request);
  }
  return received;
}

std::string broadcast(MPI_Comm comm, int root, const std::string& text) {
  long long length = static_cast<long long>(text.size());
  check(MPI_Bcast(&length, 1, MPI_LONG_LONG, root, comm), "MPI_Bcast");
  std::string received = rank(comm) == root ? text : std::string(static_cast<std::size_t>(length), '\0');
  if (length > 0) check(MPI_Bcast(received.data(), static_cast<int>(length), MPI_CHAR, root, comm), "MPI_Bcast");
  return received;
}

namespace {
template <class T>
void broadcast_vector(MPI_Comm comm, int root, std::vector<T>& values, MPI_Datatype type) {
  long long length = static_cast<long long>(values.size());
  check(MPI_Bcast(&length, 1, MPI_LONG_LONG, root, comm), "MPI_Bcast");
  values.resize(static_cast<std::size_t>(length));
  if (length > 0) check(MPI_Bcast(values.data(), static_cast<int>(length), type, root, comm), "MPI_Bcast");
}
}  // namespace

void broadcast(MPI_Comm comm, int root, std::vector<double>& values) {
  broadcast_vector(comm, root, values, MPI_DOUBLE);
}
void broadcast(MPI_Comm comm, int root, std::vector<std::uint8_t>& values) {
  broadcast_vector(comm, root, values, MPI_UINT8_T);
}

namespace {
template <class T>
std::vector<T> gather_all(MPI_Comm comm, const std::vector<T>& local, MPI_Datatype type) {
  const int ranks = size(comm);
  int local_count = static_cast<int>(local.size());
  std::vector<int> counts(static_cast<std::size_t>(ranks));
  check(MPI_Allgather(&local_count, 1, MPI_INT, counts.data(), 1, MPI_INT, comm), "MPI_Allgather");
  std::vector<int> offsets(static_cast<std::size_t>(ranks), 0);
  long long total = 0;
  for (int r = 0; r < ranks; ++r) {
    offsets[static_cast<std::size_t>(r)] = static_cast<int>(total);
    total += counts[static_cast<std::size_t>(r)];
  }
  std::vector<T> all(static_cast<std::size_t>(total));
  check(MPI_Allgatherv(local.data(), local_count, type, all.data(), counts.data(), offsets.data(), type, comm),
        "MPI_Allgatherv");
  return all;
}
}  // namespace

std::vector<double> all_gather(MPI_Comm comm, const std::vector<double>& local) {
  return gather_all(comm, local, MPI_DOUBLE);
}
std::vector<std::uint8_t> all_gather(MPI_Comm comm, const std::vector<std::uint8_t>& local) {
  return gather_all(comm, local, MPI_UINT8_T);
}

namespace {
template <class T>
std::vector<T> gather_to(MPI_Comm comm, int root, const std::vector<T>& local, MPI_Datatype type) {
  const int ranks = size(comm);
  const bool am_root = rank(comm) == root;
  int local_count = static_cast<int>(local.size());
  std::vector<int> counts(am_root ? static_cast<std::size_t>(ranks) : 0);
  check(MPI_Gather(&local_count, 1, MPI_INT, counts.data(), 1, MPI_INT, root, comm), "MPI_Gather");
  std::vector<int> offsets(counts.size(), 0);
  long long total = 0;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    offsets[r] = static_cast<int>(total);
    total += counts[r];
  }
  std::vector<T> all(static_cast<std::size_t>(total));
  check(MPI_Gatherv(local.data(), local_count, type, all.data(), counts.data(), offsets.data(), type, root, comm),
        "MPI_Gatherv");
  return all;
}
}  // namespace

std::vector<double> gather(MPI_Comm comm, int root, const std::vector<double>& local) {
  return gather_to(comm, root, local, MPI_DOUBLE);
}
std::vector<std::uint8_t> gather(MPI_Comm comm, int root, const std::vector<std::uint8_t>& local) {
  return gather_to(comm, root, local, MPI_UINT8_T);
}

double all_min(MPI_Comm comm, double value) {
  check(MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_DOUBLE, MPI_MIN, comm), "MPI_Allreduce");
  return value;
}
double all_max(MPI_Comm comm, double value) {
  check(MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_DOUBLE, MPI_MAX, comm), "MPI_Allreduce");
  return value;
}
std::int64_t all_sum(MPI_Comm comm, std::int64_t value) {
  check(MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_INT64_T, MPI_SUM, comm), "MPI_Allreduce");
  return value;
}
void all_sum(MPI_Comm comm, std::vector<std::int64_t>& values) {
  check(MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_INT64_T, MPI_SUM, comm),
        "MPI_Allreduce");
}

std::int64_t exclusive_prefix_sum(MPI_Comm comm, std::int64_t value) {
  std::int64_t below = 0;
  check(MPI_Exscan(&value, &below, 1, MPI_INT64_T, MPI_SUM, comm), "MPI_Exscan");
  return rank(comm) == 0 ? 0 : below;  // MPI_Exscan leaves rank 0's result undefined
}

}  // namespace ptyroi::mpi
