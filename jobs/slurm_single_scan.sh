#!/bin/bash
# One scan on one node: ptyroi as the pre-stage of a reconstruction job.
# Usage: sbatch jobs/slurm_single_scan.sh SCAN.h5 ROWSxCOLS [BORDER]
#SBATCH --job-name=ptyroi
#SBATCH --nodes=1
#SBATCH --ntasks=8
#SBATCH --time=00:15:00
#SBATCH --output=ptyroi-%j.out
set -euo pipefail
scan=${1:?usage: sbatch jobs/slurm_single_scan.sh SCAN.h5 ROWSxCOLS [BORDER]}
grid=${2:?give the scan raster as ROWSxCOLS}
border=${3:-2}
ptyroi=${PTYROI:-ptyroi}
srun "$ptyroi" --input "$scan" --grid "$grid" --border "$border" \
  --output "${scan%.h5}_roi.h5" --summary "${scan%.h5}_roi.json"
