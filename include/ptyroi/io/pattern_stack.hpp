#pragma once
// The input as a FrameSource: K diffraction patterns [K, N, M] in one HDF5 dataset or, for NeXus/Eiger masters, in
// several datasets (external links to the data files) read as one stack in link order. Opened on
// every rank with the MPI-IO driver and read as disjoint hyperslabs of whole frames, in the file's
// own pixel type; a rank's range may cross data-file boundaries. A virtual dataset (VDS) is read
// through each rank's own serial (sec2) handle instead: HDF5 1.10 refuses parallel reads of a VDS
// ("parallel reads not supported on virtual datasets"), independent or collective.
#include <mpi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ptyroi/core/frame_source.hpp"
#include "ptyroi/io/chunk_reader.hpp"
#include "ptyroi/io/h5.hpp"
#include "ptyroi/io/input_layout.hpp"
#include "ptyroi/io/stack_storage.hpp"

namespace ptyroi {

// Rank-local check, before the collective open, that path is a readable HDF5 file; throws
// InputError saying which of the two it is not.
void check_input_file(const std::string& path);

// Every filter in the dataset's pipeline must be available (built in or a plugin on
// HDF5_PLUGIN_PATH), or no frame can be read: throws InputError naming the missing one.
void check_stack_filters(hid_t dataset, const std::string& where);

class PatternStack : public FrameSource {
 public:
  // Collective over comm. `layout` automatic: detected from the content; a non-empty dataset_path
  // replaces the layout's stack. block_frames: the frames per read block the chunk cache is sized
  // for (0: as many as fit in 4 MiB, or in 512 KiB when every chunk is decoded in-process and holds
  // no more frames than that). `decoder` automatic: bitshuffle-LZ4 and deflate chunks are read with
  // H5Dread_chunk and decoded in-process (ptyroi/io/chunk_reader.hpp); hdf5: everything goes
  // through HDF5's filter pipeline.
  static PatternStack open(const std::string& file_path, InputLayout layout, const std::string& dataset_path,
                           std::uint64_t block_frames, MPI_Comm comm, Decoder decoder = Decoder::automatic);

  const std::string& file_path() const { return file_path_; }
  // The stack's dataset, or "/entry/data/data_000001 … data_000004" for a multi-file stack.
  const std::string& dataset_path() const { return dataset_path_; }
  const InputDescription& description() const { return description_; }
  std::uint64_t frames() const override { return frames_; }
  std::uint64_t rows() const override { return rows_; }
  std::uint64_t cols() const override { return cols_; }
  PixelType pixel_type() const override { return pixel_type_; }
  std::string name() const override;  // "dataset '/data' in 'scan.h5'"
  std::uint64_t preferred_block_frames() const override { return block_frames_; }
  // False when compressed chunks hold more frames than a block: a rank reading frames from the
  // middle of such a chunk would decode it again (a deflate stream from its start).
  bool reads_every_frame() const override { return reads_every_frame_; }
  // The dataset's type as stored, so the RoI subset keeps it (byte order included).
  hid_t file_type() const { return file_type_.get(); }
  std::size_t segments() const { return segments_.size(); }
  // The open dataset of segment i, as read (its access properties: chunk and metadata caches).
  hid_t segment_dataset(std::size_t i) const { return segments_.at(i).dataset.get(); }
  Decoder decoder() const { return decoder_; }
  // The in-process reader of segment i, or nullptr when it is read through H5Dread.
  const ChunkReader* segment_chunk_reader(std::size_t i) const { return segments_.at(i).direct.get(); }
  // How segment i is decoded: "in-process bitshuffle-LZ4", "HDF5 filter pipeline", "unfiltered".
  std::string segment_decoding(std::size_t i) const;

  // Whether segment i is a virtual dataset, and its sources (empty otherwise).
  bool segment_virtual(std::size_t i) const { return !segments_.at(i).sources.empty(); }
  const std::vector<VirtualSource>& segment_sources(std::size_t i) const { return segments_.at(i).sources; }
  // "dataset '/entry/data/data_000002' in 'scan_data_000002.h5'": where frame k is stored.
  std::string frame_location(std::uint64_t frame) const;
  // The files frames [range) are read from: the data files of their segments and, for a VDS, the
  // source files their frames map to. Rank-local.
  std::vector<std::string> frame_files(FrameRange range) const;
  // Per segment, 1 when not every chunk of it is written (H5Dget_num_chunks: one pass over its
  // chunk index, no per-frame lookup). Rank-local (one rank is enough).
  std::vector<std::uint8_t> segments_with_unwritten_chunks() const;
  // The frames in `range` (stack numbering) that lie in an unwritten chunk, looking only in the
  // segments flagged by segments_with_unwritten_chunks. Rank-local.
  std::vector<FrameRange> unwritten_frames(FrameRange range, const std::vector<std::uint8_t>& flagged) const;

  // Reads the window of frames [first, first+count) with independent MPI-IO transfers.
  void read_window(std::uint64_t first, std::uint64_t count, std::uint64_t row, std::uint64_t col, std::uint64_t rows,
                   std::uint64_t cols, void* buffer) const override;

 private:
  // One dataset of the stack: its frames are [first_frame, first_frame + frames) of the whole.
  struct Segment {
    std::string path;
    h5::Handle dataset;
    std::uint64_t first_frame = 0;
    std::uint64_t frames = 0;
    std::size_t leading = 0;  // singleton axes before [K, N, M] (a [1, K, N, M] stack: 1)
    bool filtered = false;
    std::unique_ptr<ChunkReader> direct;  // compressed chunks decoded in-process, when it handles them
    std::vector<VirtualSource> sources;   // a VDS: its mappings (it is then read through serial_file_)
  };

  std::string file_path_;
  std::string dataset_path_;
  InputDescription description_;
  // The file before its datasets: members die in reverse order, and with the MPI-IO driver a file
  // closes only after every object in it.
  h5::Handle file_;
  h5::Handle serial_file_;  // the same file through sec2, opened for a VDS
  std::vector<Segment> segments_;
  std::uint64_t frames_ = 0, rows_ = 0, cols_ = 0;
  std::uint64_t block_frames_ = 1;
  bool reads_every_frame_ = true;
  Decoder decoder_ = Decoder::automatic;
  PixelType pixel_type_ = PixelType::f64;
  h5::Handle file_type_;
  h5::Handle transfer_;
};

}  // namespace ptyroi
