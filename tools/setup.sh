#!/usr/bin/env bash
# Installs every Debian package ptyroi needs to build, test and run (root, no sudo).
# Safe to run again: apt-get skips what is already installed.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  openmpi-bin libopenmpi-dev
  libhdf5-openmpi-dev hdf5-tools
  libeigen3-dev libboost-program-options-dev
  libgtest-dev libfftw3-dev nlohmann-json3-dev
  libnanoflann-dev  # k-d tree: neighbours of irregular scans
  libcairo2-dev libfontconfig-dev fonts-dejavu-core  # --preview PNGs (text in DejaVu Sans)
  bitshuffle time   # HDF5 filter 32008 (Eiger bitshuffle-LZ4), /usr/bin/time: tools/bench.sh
  liblz4-dev libdeflate-dev zlib1g-dev  # in-process decoding of bitshuffle-LZ4 and deflate chunks (src/io/chunk_*.cpp)
  python3-h5py  # tools/bench_codec.sh: an h5py read of the same files; the fault suite reads a contested output
  strace  # the fault suite: the fsync/rename system calls of a commit
  slurm-wlm munge libpmix-dev  # the Slurm job tests (a one-node cluster); srun needs PMIx for OpenMPI
  python3-skimage python3-matplotlib  # the SSIM reference test and tools/validate.sh's plot
  python3-h5py zlib1g-dev  # the formats tests read outputs as the clients do; .npz checksums (zlib)
  pybind11-dev python3-pybind11 python3-numpy python3-pytest python3-mpi4py  # the Python module and its tests
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: need root to apt-get install: ${missing[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
