// Writes a test .npz with NpzWriter from every rank (tests/client_rules.py npz checks it with
// numpy): `data` float32 [K, 3, 5] holding 0, 1, 2, … with each rank writing its share of the K
// frames in blocks of 2, a bool and a scalar member. Usage: write_npz FILE K [zip64]
#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "ptyroi/core/mpi.hpp"
#include "ptyroi/core/partition.hpp"
#include "ptyroi/io/npz_file.hpp"

int main(int argc, char** argv) {
  ptyroi::mpi::Session session(argc, argv);
  const MPI_Comm comm = MPI_COMM_WORLD;
  if (argc < 3) {
    std::fprintf(stderr, "usage: write_npz FILE K [zip64]\n");
    return 2;
  }
  try {
    const std::string path = argv[1];
    const auto frames = static_cast<std::uint64_t>(std::atoll(argv[2]));
    const bool zip64 = argc > 3 && std::string(argv[3]) == "zip64";
    const int rank = ptyroi::mpi::rank(comm);
    if (rank == 0) {
      std::FILE* file = std::fopen(path.c_str(), "wb");  // NpzWriter writes into an existing file
      if (file != nullptr) std::fclose(file);
    }
    MPI_Barrier(comm);
    ptyroi::NpzWriter npz(path, comm, "data", ptyroi::NpyArray{"<f4", {frames, 3, 5}}, zip64);
    const ptyroi::FrameRange mine = ptyroi::partition_frames(frames, ptyroi::mpi::size(comm), rank);
    for (std::uint64_t first = mine.begin; first < mine.end; first += 2) {
      const std::uint64_t count = std::min<std::uint64_t>(2, mine.end - first);
      std::vector<float> values(count * 15);
      for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(first * 15 + i);
      npz.write_parallel(first * 15 * sizeof(float), values.data(), values.size() * sizeof(float));
    }
    const double scalar = 2.5;
    const unsigned char flags[] = {1, 0, 1};
    npz.add("scalar", ptyroi::NpyArray{"<f8", {}}, &scalar);
    npz.add("flags", ptyroi::NpyArray{"|b1", {3}}, flags);
    npz.close();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "write_npz: %s\n", error.what());
    return 1;
  }
  return 0;
}
