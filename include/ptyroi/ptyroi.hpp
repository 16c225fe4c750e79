#pragma once
// ptyroi: the region of interest of an X-ray ptychography scan from its diffraction patterns
// (Lin, Jiang, Deng & Di, "Physics-inspired unsupervised classification for region of interest in
// X-ray ptychography"). The public library, find_package(ptyroi) → ptyroi::ptyroi:
//
//   core   the method and its distributed steps (MPI only):
//          find_roi(frames, positions, pixels, parameters, comm) on any FrameSource — frames in
//          memory (MemoryFrames) or a file's stack — writing nothing. Planning on the RoI:
//          RoiRegion, plan_fine_scan (a fine scan of it), partition_roi (compact parts with
//          halos), the probe radius from the bright-field disc (probe_estimate.hpp).
//   io     readers and writers (parallel HDF5): PatternStack (a FrameSource over NeXus, CXI,
//          PtychoShelves and plain files), positions and masks, the output formats (a registry)
//          and write_roi, the /roi record, one output per partition (write_partition_outputs).
#include "ptyroi/version.hpp"

#include "ptyroi/core/error.hpp"
#include "ptyroi/core/feature_exchange.hpp"
#include "ptyroi/core/find_roi.hpp"
#include "ptyroi/core/fine_scan_plan.hpp"
#include "ptyroi/core/frame_source.hpp"
#include "ptyroi/core/memory_frames.hpp"
#include "ptyroi/core/mpi.hpp"
#include "ptyroi/core/partition.hpp"
#include "ptyroi/core/pixel_type.hpp"
#include "ptyroi/core/probe_estimate.hpp"
#include "ptyroi/core/roi_parameters.hpp"
#include "ptyroi/core/roi_region.hpp"
#include "ptyroi/core/scan_partitions.hpp"
#include "ptyroi/core/scan_positions.hpp"

#include "ptyroi/io/atomic_output.hpp"
#include "ptyroi/io/h5.hpp"
#include "ptyroi/io/input_layout.hpp"
#include "ptyroi/io/live_stack.hpp"
#include "ptyroi/io/output_format.hpp"
#include "ptyroi/io/partition_outputs.hpp"
#include "ptyroi/io/pattern_stack.hpp"
#include "ptyroi/io/pixel_mask.hpp"
#include "ptyroi/io/positions.hpp"
#include "ptyroi/io/roi_schema.hpp"
#include "ptyroi/io/roi_writer.hpp"
