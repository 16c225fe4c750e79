// main() for the MPI test binaries: GoogleTest inside MPI_Init/MPI_Finalize, output from rank 0
// only, and a failure on any rank fails the run on every rank.
#include <gtest/gtest.h>
#include <mpi.h>

#include "ptyroi/io/h5.hpp"

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  ptyroi::h5::silence_error_printing();
  ::testing::InitGoogleTest(&argc, argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  int failed = RUN_ALL_TESTS();
  MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return failed;
}
