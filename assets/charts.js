// Dashboard charts (统计看板): reads the specs from <script type="application/json"
// id="dashboard-charts"> and draws each into its <canvas id="…">. Every chart has the same
// numbers in the table next to it; the canvas is role="img" with a label pointing there.
// Only the Chart.js parts used here are registered, so the bundle stays small.
import {
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  DoughnutController,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";

Chart.register(
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  DoughnutController,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
);

// Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
const COLOURS = ["#0072B2", "#E69F00", "#D55E00", "#999999", "#009E73", "#CC79A7", "#56B4E9", "#F0E442"];
const RATE_COLOUR = "#222222";

function colour(i) {
  return COLOURS[i % COLOURS.length];
}

function barConfig(spec) {
  const horizontal = Boolean(spec.horizontal);
  const datasets = spec.datasets.map((d, i) => ({
    type: "bar",
    label: d.label,
    data: d.data,
    backgroundColor: colour(i),
    stack: spec.stacked ? "stack" : undefined,
    yAxisID: horizontal ? undefined : "y",
    order: 2,
  }));
  const scales = {
    x: { stacked: Boolean(spec.stacked), beginAtZero: true, ticks: { precision: 0 } },
    y: { stacked: Boolean(spec.stacked), beginAtZero: true, ticks: { precision: 0 } },
  };
  if (spec.rate && !horizontal) {
    datasets.push({
      type: "line",
      label: spec.rate.label,
      data: spec.rate.data,
      borderColor: RATE_COLOUR,
      backgroundColor: RATE_COLOUR,
      yAxisID: "rate",
      spanGaps: true,
      order: 1,
    });
    scales.rate = {
      position: "right",
      min: 0,
      max: 100,
      grid: { drawOnChartArea: false },
      ticks: { callback: (v) => `${v}%` },
    };
  }
  return {
    type: "bar",
    data: { labels: spec.labels, datasets },
    options: {
      indexAxis: horizontal ? "y" : "x",
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales,
      plugins: { legend: { position: "bottom" } },
    },
  };
}

function doughnutConfig(spec) {
  return {
    type: "doughnut",
    data: {
      labels: spec.labels,
      datasets: spec.datasets.map((d) => ({
        label: d.label,
        data: d.data,
        backgroundColor: spec.labels.map((_, i) => colour(i)),
      })),
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { position: "right" } },
    },
  };
}

function draw() {
  const block = document.getElementById("dashboard-charts");
  if (!block) return;
  let specs;
  try {
    specs = JSON.parse(block.textContent || "[]");
  } catch (err) {
    return; // the tables carry the same numbers
  }
  for (const spec of specs) {
    const canvas = document.getElementById(spec.canvas);
    if (!canvas) continue;
    const config = spec.type === "doughnut" ? doughnutConfig(spec) : barConfig(spec);
    new Chart(canvas, config);
    canvas.dataset.chartReady = "true";
  }
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", draw);
} else {
  draw();
}
