#include "ptyroi/io/live_stack.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>
#include <thread>

#include "ptyroi/io/pattern_stack.hpp"

namespace ptyroi {

namespace {

constexpr const char* kNimages = "/entry/instrument/detector/detectorSpecific/nimages";
constexpr const char* kNtrigger = "/entry/instrument/detector/detectorSpecific/ntrigger";

// A scalar count of the master (nimages, ntrigger); nullopt when absent or not a positive integer.
std::optional<std::uint64_t> read_count(hid_t file, const char* path) {
  if (!h5::is_dataset(file, path)) return std::nullopt;
  try {
    h5::Handle dataset = h5::open_dataset(file, path, "");
    const std::vector<double> values = h5::read_all<double>(dataset.get());
    if (values.size() != 1 || !(values[0] >= 1) || values[0] != std::floor(values[0])) return std::nullopt;
    return static_cast<std::uint64_t>(values[0]);
  } catch (const Error&) {
    return std::nullopt;  // being written: read at the next look
  }
}

std::string file_of(hid_t object) {
  const ssize_t length = H5Fget_name(object, nullptr, 0);
  if (length <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return {};
  }
  std::string name(static_cast<std::size_t>(length), '\0');
  H5Fget_name(object, name.data(), name.size() + 1);
  return name;
}

std::string one_line_text(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  std::replace(text.begin(), text.end(), '\t', ' ');
  return text;
}

}  // namespace

std::string LiveStack::View::encode() const {
  std::ostringstream out;
  out << frames << '\t' << (expected ? std::to_string(*expected) : std::string("-")) << '\n'
      << one_line_text(waiting) << '\n';
  for (const Segment& segment : segments) out << segment.frames << '\t' << segment.dataset << '\n';
  return out.str();
}

LiveStack::View LiveStack::View::decode(const std::string& text) {
  View view;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  const auto tab = line.find('\t');
  view.frames = std::stoull(line.substr(0, tab));
  const std::string expected = line.substr(tab + 1);
  if (expected != "-") view.expected = std::stoull(expected);
  std::getline(in, view.waiting);
  while (std::getline(in, line)) {
    const auto split = line.find('\t');
    view.segments.push_back({line.substr(split + 1), std::stoull(line.substr(0, split))});
  }
  return view;
}

LiveStack::~LiveStack() {
  // Readers and datasets before the file they were reached through.
  segments_.clear();
}

std::unique_ptr<LiveStack> LiveStack::open(const std::string& file_path, InputLayout layout,
                                           const std::string& dataset_path, Decoder decoder) {
  std::unique_ptr<LiveStack> stack(new LiveStack());
  stack->file_path_ = file_path;
  stack->requested_layout_ = layout;
  stack->requested_dataset_ = dataset_path;
  stack->decoder_ = decoder;
  stack->input_ = h5::open_file_read_live(file_path);
  stack->description_ = describe_input(stack->input_.get(), file_path, layout, dataset_path);
  stack->master_mode_ = stack->description_.layout == InputLayout::nexus && dataset_path.empty();
  return stack;
}

h5::Handle LiveStack::reopen_input() const { return h5::open_file_read_live(file_path_); }

std::string LiveStack::dataset_path() const {
  if (segments_.empty()) return description_.stack_paths.empty() ? std::string() : description_.stack_paths.front();
  if (segments_.size() == 1) return segments_.front().path;
  return segments_.front().path + " … " + segments_.back().path;
}

std::string LiveStack::name() const { return "dataset '" + dataset_path() + "' in '" + file_path_ + "'"; }

bool LiveStack::open_segment(hid_t file, const std::string& path, std::string* why) {
  const std::string where = "dataset '" + path + "' in '" + file_path_ + "'";
  const hid_t id = H5Dopen2(file, path.c_str(), H5P_DEFAULT);
  if (id < 0) {
    // Its data file is absent, still being copied (truncated) or held by its writer (locked).
    const std::string detail = h5::error_stack_message();
    H5Eclear2(H5E_DEFAULT);
    if (why) *why = where + " does not open yet" + (detail.empty() ? "" : " (HDF5: " + detail + ")");
    return false;
  }
  Segment segment;
  segment.path = path;
  segment.dataset = h5::Handle(id);
  segment.file = file_of(id);
  const auto dims = h5::dataset_dims(id);
  if (dims.size() != 3) {
    throw InputError(where + " has " + std::to_string(dims.size()) + " dimensions; expected 3 [frames, rows, cols]");
  }
  h5::Handle type = h5::checked(H5Dget_type(id), "cannot read the type of " + where);
  const PixelType pixel_type = h5::classify_pixel_type(type.get(), where);
  if (segments_.empty()) {
    rows_ = dims[1];
    cols_ = dims[2];
    pixel_type_ = pixel_type;
    file_type_ = std::move(type);
  } else if (dims[1] != rows_ || dims[2] != cols_ || pixel_type != pixel_type_) {
    throw InputError(where + " holds " + std::to_string(dims[1]) + "x" + std::to_string(dims[2]) + " " +
                     pixel_type_name(pixel_type) + " frames, unlike '" + segments_.front().path + "' (" +
                     std::to_string(rows_) + "x" + std::to_string(cols_) + " " + pixel_type_name(pixel_type_) +
                     "): the blocks of one stack must match");
  }
  if (decoder_ == Decoder::hdf5 || !ChunkReader::handles(id, h5::native_type(pixel_type))) {
    check_stack_filters(id, where);
  }
  if (rows_ == 0 || cols_ == 0) throw InputError(where + " has empty frames");
  segments_.push_back(std::move(segment));
  return true;
}

void LiveStack::reopen_reader(Segment& segment) const {
  segment.direct.reset();
  if (decoder_ == Decoder::automatic) {
    segment.direct = ChunkReader::open(segment.dataset.get(), h5::native_type(pixel_type_),
                                       "dataset '" + segment.path + "' in '" + file_path_ + "'");
  }
}

void LiveStack::refresh(Segment& segment) {
  if (segment.finished) return;
  // Asked before the refresh: a writer gone now has written everything the refresh will show.
  const bool writing = h5::open_for_writing(segment.file);
  h5::check(H5Drefresh(segment.dataset.get()), "cannot refresh dataset '" + segment.path + "' in '" + file_path_ + "'");
  const std::uint64_t extent = h5::dataset_dims(segment.dataset.get()).at(0);
  if (extent != segment.extent || !segment.direct) reopen_reader(segment);
  segment.extent = std::max(segment.extent, extent);
  if (!writing) {
    // As a batch run would read it: every frame, written or fill value.
    segment.complete = segment.extent;
    segment.finished = true;
  } else {
    segment.complete = std::max(segment.complete, h5::complete_prefix(segment.dataset.get(), segment.complete, extent));
  }
}

LiveStack::View LiveStack::look() {
  View view;
  if (master_mode_) {
    // The master may have been replaced (links added) or be briefly locked by its writer.
    try {
      h5::Handle master = reopen_input();
      const InputDescription now = describe_input(master.get(), file_path_, requested_layout_, requested_dataset_);
      view.expected = read_count(master.get(), kNimages);
      if (view.expected) *view.expected *= read_count(master.get(), kNtrigger).value_or(1);
      input_ = std::move(master);
      description_.stack_paths = now.stack_paths;
    } catch (const InputError& error) {
      view.waiting = std::string("the master: ") + error.what();
    }
  }
  for (std::size_t i = segments_.size(); i < description_.stack_paths.size(); ++i) {
    std::string why;
    if (!open_segment(input_.get(), description_.stack_paths[i], &why)) {
      if (view.waiting.empty()) view.waiting = why;
      break;
    }
  }
  std::uint64_t first = 0;
  for (Segment& segment : segments_) {
    segment.first_frame = first;
    refresh(segment);
    view.segments.push_back({segment.path, segment.complete});
    view.frames += segment.complete;
    if (!segment.finished || segment.complete < segment.extent) {
      view.waiting = "dataset '" + segment.path + "' in '" + file_path_ + "' is being written (" +
                     std::to_string(segment.complete) + " of " + std::to_string(segment.extent) + " frames complete)";
      break;
    }
    first += segment.extent;
  }
  return view;
}

void LiveStack::adopt(const View& view) {
  using namespace std::chrono;
  const auto deadline = steady_clock::now() + seconds(10);
  for (std::size_t i = 0; i < view.segments.size(); ++i) {
    const View::Segment& wanted = view.segments[i];
    for (milliseconds pause(5);; pause = std::min(pause * 2, milliseconds(500))) {
      std::string why;
      if (i < segments_.size() || open_segment(input_.get(), wanted.dataset, &why)) {
        Segment& segment = segments_[i];
        if (segment.path != wanted.dataset) {
          throw InternalError("live stack: segment " + std::to_string(i) + " is '" + segment.path + "', expected '" +
                              wanted.dataset + "'");
        }
        if (segment.extent < wanted.frames) {
          h5::check(H5Drefresh(segment.dataset.get()),
                    "cannot refresh dataset '" + segment.path + "' in '" + file_path_ + "'");
          const std::uint64_t extent = h5::dataset_dims(segment.dataset.get()).at(0);
          if (extent != segment.extent) {
            segment.extent = extent;
            reopen_reader(segment);
          }
        }
        if (segment.extent >= wanted.frames) {
          segment.complete = std::max(segment.complete, wanted.frames);
          break;
        }
        why = "dataset '" + segment.path + "' shows " + std::to_string(segment.extent) + " of " +
              std::to_string(wanted.frames) + " frames";
      } else if (master_mode_) {
        // This rank's master may predate the link: open it again.
        try {
          input_ = reopen_input();
        } catch (const InputError&) {
        }
      }
      if (steady_clock::now() > deadline) {
        throw IoError("'" + file_path_ + "': frames another rank reads are out of this rank's sight: " + why);
      }
      std::this_thread::sleep_for(pause);
    }
  }
  std::uint64_t first = 0;
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    segments_[i].first_frame = first;
    first += i < view.segments.size() ? view.segments[i].frames : 0;
  }
  frames_ = view.frames;
}

std::string LiveStack::file_being_written() const {
  if (h5::open_for_writing(file_path_)) return file_path_;
  for (const Segment& segment : segments_) {
    if (h5::open_for_writing(segment.file)) return segment.file;
  }
  return {};
}

void LiveStack::read_window(std::uint64_t first, std::uint64_t count, std::uint64_t row, std::uint64_t col,
                            std::uint64_t rows, std::uint64_t cols, void* buffer) const {
  if (first + count > frames_) {
    throw IoError("read of frames " + std::to_string(first) + ".." + std::to_string(first + count - 1) + " of " +
                  name() + ", which holds " + std::to_string(frames_) + " complete frames");
  }
  auto* out = static_cast<unsigned char*>(buffer);
  const std::size_t frame_bytes = rows * cols * pixel_type_size(pixel_type_);
  const std::uint64_t end = first + count;
  for (const Segment& segment : segments_) {
    const std::uint64_t begin = std::max(first, segment.first_frame);
    const std::uint64_t stop = std::min(end, segment.first_frame + segment.complete);
    if (begin >= stop) continue;
    const hsize_t start[3] = {begin - segment.first_frame, row, col};
    const hsize_t extent[3] = {stop - begin, rows, cols};
    if (segment.direct) {
      segment.direct->read(start, extent, out + (begin - first) * frame_bytes, H5P_DEFAULT);
      continue;
    }
    h5::Handle file_space = h5::checked(H5Dget_space(segment.dataset.get()), "cannot get the dataspace");
    h5::check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, extent, nullptr),
              "cannot select frames");
    h5::Handle memory = h5::memory_space({extent[0], rows, cols});
    h5::check(H5Dread(segment.dataset.get(), h5::native_type(pixel_type_), memory.get(), file_space.get(), H5P_DEFAULT,
                      out + (begin - first) * frame_bytes),
              "cannot read frames " + std::to_string(begin) + ".." + std::to_string(stop - 1) + " of dataset '" +
                  segment.path + "' in '" + file_path_ + "'");
  }
}

}  // namespace ptyroi
