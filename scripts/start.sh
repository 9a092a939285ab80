#!/usr/bin/env bash
# `npm start`: the main job. Checks/installs what is missing (scripts/ensure-setup.sh), then executes
# notebooks/02-gated.ipynb with its default configuration on MNIST (gated PixelCNN, -x 5 -k 5 -c 30,
# 3 epochs of 9,600 images at batch 64) and writes reports/02-gated.html.
# Takes about 4 minutes on 2 CPU cores with the native backend (3:56 measured; on wasm alone about 20).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-setup.sh
echo "npm start: training the gated PixelCNN of notebooks/02-gated.ipynb on MNIST and writing reports/02-gated.html"
echo "npm start: expect about 4 minutes on 2 CPU cores (native backend; about 20 on wasm alone); progress follows"
exec node --import tsx lib/report/cli.ts 02-gated "$@"
