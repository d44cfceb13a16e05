/* Draws a dataset's chart (uPlot): each charted column's mean (or sum) per time, read from the
   public records API like a download. The page shows its rows without this. */
(function () {
  "use strict";
  var box = document.getElementById("chart");
  if (!box || !window.uPlot) return;
  var d = box.dataset;
  var COLOURS = ["#1f5fbf", "#b00020", "#1b7a1b", "#8a4f00"];
  var columns = d.values.split(","), labels = d.labels.split("|");
  fetch(d.src).then(function (r) {
    if (!r.ok) throw new Error("records API: HTTP " + r.status);
    return r.json();
  }).then(function (page) {
    var at = {};
    page.items.forEach(function (row) {
      var t = Date.parse(String(row[d.time]).replace(" ", "T")) / 1000;
      if (isNaN(t)) return;
      var sums = at[t] || (at[t] = columns.map(function () { return [0, 0]; }));
      columns.forEach(function (c, i) {
        if (row[c] !== null && row[c] !== undefined) { sums[i][0] += row[c]; sums[i][1] += 1; }
      });
    });
    var times = Object.keys(at).map(Number).sort(function (a, b) { return a - b; });
    var data = [times].concat(columns.map(function (c, i) {
      return times.map(function (t) {
        var s = at[t][i];
        return s[1] ? (d.by === "sum" ? s[0] : s[0] / s[1]) : null;
      });
    }));
    var width = Math.max(280, Math.min(960, box.clientWidth || 720));
    var one = times.length === 1 ? { x: { range: [times[0] - 3600, times[0] + 3600] } } : {};
    new uPlot({
      width: width,
      height: 300,
      scales: one,
      series: [{}].concat(labels.map(function (label, i) {
        return { label: label, stroke: COLOURS[i % COLOURS.length], width: 2 };
      })),
    }, data, box);
    box.dataset.points = String(times.length);
  }).catch(function (err) {
    box.dataset.points = "0";
    var note = document.createElement("p");
    note.textContent = String(err.message || err);
    box.appendChild(note);
  });
})();
