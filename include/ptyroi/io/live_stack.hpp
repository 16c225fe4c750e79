#pragma once
// The input of an acquisition still in progress as a FrameSource (ptyroi --follow):
//   - a NeXus/NXmx master whose data files (its /entry/data/data_NNNNNN external links) appear one
//     by one, as detector file writers make them; the master itself may be written once with every
//     link (dangling until its file arrives) or replaced (by rename) as links are added;
//   - a stack that grows in one dataset, written with HDF5 SWMR (H5Fstart_swmr_write).
// Files are opened rank-locally with the sec2 driver as SWMR readers: HDF5 1.10 refuses SWMR with
// the MPI-IO driver ("must use a SWMR-compatible VFD"), and a SWMR reader also opens files written
// without SWMR. A frame counts only once it is surely written: its data file opens (a file still
// being copied is truncated and does not; one held open by a writer without SWMR is locked), and,
// while a SWMR writer still holds the file, every chunk holding it is allocated and lies inside the
// dataset's extent (h5::complete_prefix). Frames count from the first on, in stack order; a data
// file's frames count once the files before it are finished (no writer holds them).
//
// One rank looks (look: re-reads the master, refreshes the datasets) and every rank adopts what it
// saw (adopt: opens the same files, refreshes its own view), so every rank reads the same frames.
#include <hdf5.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ptyroi/core/frame_source.hpp"
#include "ptyroi/io/chunk_reader.hpp"
#include "ptyroi/io/h5.hpp"
#include "ptyroi/io/input_layout.hpp"

namespace ptyroi {

class LiveStack : public FrameSource {
 public:
  // What was complete at one look, from frame 0 on.
  struct View {
    struct Segment {
      std::string dataset;       // path in the input file (a master's data_NNNNNN link)
      std::uint64_t frames = 0;  // complete frames, from its first
    };
    std::vector<Segment> segments;          // every one but the last is finished and counted whole
    std::uint64_t frames = 0;               // the sum
    std::optional<std::uint64_t> expected;  // NXmx nimages × ntrigger, when the master says
    std::string waiting;                    // why no more frames count yet (empty: nothing seen to wait for)

    std::string encode() const;  // to broadcast
    static View decode(const std::string& text);
  };

  // Rank-local. Opens the input as it is now; throws InputError when it cannot be used yet (absent,
  // locked, no stack where the layout keeps it) — the caller waits and tries again — or at all.
  static std::unique_ptr<LiveStack> open(const std::string& file_path, InputLayout layout,
                                         const std::string& dataset_path, Decoder decoder = Decoder::automatic);

  // Rank-local: looks at the files again. Never fewer frames than the last look.
  View look();
  // Rank-local: opens what `view` names and refreshes the datasets until they hold its frames;
  // frames() is then view.frames. Throws IoError when they stay out of sight (seconds).
  void adopt(const View& view);

  const std::string& file_path() const { return file_path_; }
  const InputDescription& description() const { return description_; }
  std::string dataset_path() const;  // "/data", or "/entry/data/data_000001 … data_000004"
  std::size_t segments() const { return segments_.size(); }
  bool has_frame_shape() const { return rows_ > 0; }  // a dataset was opened (shape and type known)
  hid_t file_type() const { return file_type_.get(); }
  // Whether the input is a master whose data files arrive (else one file that grows).
  bool arrives_in_files() const { return master_mode_; }
  // The first of the input and the opened data files a writer still holds open; empty: none.
  std::string file_being_written() const;

  std::uint64_t frames() const override { return frames_; }
  std::uint64_t rows() const override { return rows_; }
  std::uint64_t cols() const override { return cols_; }
  PixelType pixel_type() const override { return pixel_type_; }
  std::string name() const override;
  void read_window(std::uint64_t first, std::uint64_t count, std::uint64_t row, std::uint64_t col, std::uint64_t rows,
                   std::uint64_t cols, void* buffer) const override;

  ~LiveStack() override;
  LiveStack(const LiveStack&) = delete;
  LiveStack& operator=(const LiveStack&) = delete;

 private:
  LiveStack() = default;

  struct Segment {
    std::string path;  // in the input file
    std::string file;  // the file holding the dataset (a data file, or the input)
    h5::Handle dataset;
    std::uint64_t first_frame = 0;
    std::uint64_t extent = 0;    // frames as last seen
    std::uint64_t complete = 0;  // frames surely written
    bool finished = false;       // no writer holds its file: every frame counts
    mutable std::unique_ptr<ChunkReader> direct;
  };

  h5::Handle reopen_input() const;
  // Opens `path` of `file` (whose handle keeps external links working) as a segment; false, with
  // the reason in *why, when it cannot be opened yet.
  bool open_segment(hid_t file, const std::string& path, std::string* why);
  void refresh(Segment& segment);
  void reopen_reader(Segment& segment) const;

  std::string file_path_, requested_dataset_;
  InputLayout requested_layout_ = InputLayout::automatic;
  Decoder decoder_ = Decoder::automatic;
  InputDescription description_;
  bool master_mode_ = false;
  // The input as opened for each segment: masters may be replaced, and an open dataset needs the
  // file it was reached through only while it is open (HDF5 keeps that file open itself).
  h5::Handle input_;
  std::vector<Segment> segments_;
  std::uint64_t frames_ = 0, rows_ = 0, cols_ = 0;
  PixelType pixel_type_ = PixelType::f64;
  h5::Handle file_type_;
};

}  // namespace ptyroi
