/* Quick charts of the partner dashboard: draws the series that the page embeds with
   json_script (#dashboard-chart-data) into each canvas[data-series], with the vendored
   Chart.js. Without JavaScript or Chart.js the table below the charts has the same numbers.
   Money arrives as decimal strings; they become numbers only to place points, and tooltips
   show the exact strings. */
(function () {
  "use strict";
  var source = document.getElementById("dashboard-chart-data");
  if (!source || typeof window.Chart === "undefined") return;
  var data = JSON.parse(source.textContent);
  var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var accent = getComputedStyle(document.documentElement).getPropertyValue("--accent").trim() || "#1f5f8b";
  var labels = data.dates.map(function (iso) { return iso.slice(5); }); // MM-DD: the year is in the tooltip

  data.series.forEach(function (series) {
    var canvas = document.querySelector('canvas[data-series="' + series.key + '"]');
    if (!canvas) return;
    var money = series.type === "money";
    var options = {
      responsive: true,
      maintainAspectRatio: false,
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            title: function (items) { return data.dates[items[0].dataIndex]; },
            label: function (item) {
              var value = series.data[item.dataIndex];
              return series.label + ": " + value + (money ? " " + data.currency : "");
            }
          }
        }
      },
      scales: { y: { beginAtZero: !money, ticks: money ? {} : { precision: 0 } } }
    };
    if (reduceMotion) options.animation = false;
    new window.Chart(canvas, {
      type: money ? "line" : "bar",
      data: {
        labels: labels,
        datasets: [{
          label: series.label,
          data: series.data.map(function (v) { return v === null ? null : Number(v); }),
          backgroundColor: accent,
          borderColor: accent,
          pointRadius: 0,
          tension: 0.2
        }]
      },
      options: options
    });
    canvas.closest(".quick-chart").classList.add("is-drawn");
  });
})();
