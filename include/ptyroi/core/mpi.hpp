#pragma once
// Small MPI helpers. Every function takes its communicator explicitly; library code never
// assumes MPI_COMM_WORLD.
#include <mpi.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ptyroi/core/error.hpp"

namespace ptyroi::mpi {

int rank(MPI_Comm comm);
int size(MPI_Comm comm);

// Owns MPI_Init/MPI_Finalize for a program's main().
class Session {
 public:
  Session(int& argc, char**& argv);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();
};

// Runs one phase of rank-local work, then agrees on its outcome: if any rank threw, every rank
// throws an error of the same category (UsageError, InputError, ...) carrying the message of the
// lowest failing rank. Collective calls may follow a phase only, never occur inside one that can
// fail on a single rank: that is what keeps one rank's error from leaving the others waiting.
void run_phase(MPI_Comm comm, const std::function<void()>& phase);
// As run_phase, but ranks that finish first wait for the others asleep (a non-blocking reduction
// tested every few milliseconds) instead of spinning inside MPI: for phases in which one rank works
// for long while the others have nothing to do (ptyroi --follow: looking at the files, the live
// outputs).
void run_phase_sleeping(MPI_Comm comm, const std::function<void()>& phase);
// As broadcast, the other ranks asleep while they wait.
std::string broadcast_sleeping(MPI_Comm comm, int root, const std::string& text);

// Broadcasts a string from root.
std::string broadcast(MPI_Comm comm, int root, const std::string& text);
void broadcast(MPI_Comm comm, int root, std::vector<double>& values);
void broadcast(MPI_Comm comm, int root, std::vector<std::uint8_t>& values);

// Concatenates every rank's values in rank order (every rank receives the whole vector).
std::vector<double> all_gather(MPI_Comm comm, const std::vector<double>& local);
std::vector<std::uint8_t> all_gather(MPI_Comm comm, const std::vector<std::uint8_t>& local);

// Concatenates every rank's values in rank order on `root` only (the others receive nothing).
std::vector<double> gather(MPI_Comm comm, int root, const std::vector<double>& local);
std::vector<std::uint8_t> gather(MPI_Comm comm, int root, const std::vector<std::uint8_t>& local);

// Reductions of one value.
double all_min(MPI_Comm comm, double value);
double all_max(MPI_Comm comm, double value);
std::int64_t all_sum(MPI_Comm comm, std::int64_t value);
void all_sum(MPI_Comm comm, std::vector<std::int64_t>& values);

// Sum of value over ranks below this one (0 on rank 0).
std::int64_t exclusive_prefix_sum(MPI_Comm comm, std::int64_t value);

}  // namespace ptyroi::mpi
