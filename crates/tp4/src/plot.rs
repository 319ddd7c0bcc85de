//! Plots with plotters, written both as PNG (for the report and a quick look) and
//! SVG (sharp at any size, and what the notebook displays inline).
//!
//! Three shapes cover the lab: [`LineChart`] (speedup or time against workers, with an
//! optional dashed "ideal" series), [`BarChart`] (one bar per strategy) and
//! [`HorizontalBarChart`] (one row per item on a fixed scale, for dozens of items
//! such as the pass rate of each question of a class). Text is
//! drawn with the DejaVu Sans font embedded in the binary, so PNGs render the same
//! on a machine without any font installed, French accents included.

use crate::error::{Error, Result};
use crate::fr;
use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Once;

const SIZE: (u32, u32) = (900, 560);

/// The colours of the successive series (colour-blind friendly, Okabe–Ito).
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(120, 120, 120),
    RGBColor(240, 228, 66),
];

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Registering can only fail on a malformed font; DejaVu is well-formed.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
        let _ = plotters::style::register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold());
    });
}

/// One line of a [`LineChart`].
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend label (French).
    pub label: String,
    /// Points `(x, y)`, in x order.
    pub points: Vec<(f64, f64)>,
    /// Drawn dashed, without markers: for a model or an ideal.
    pub dashed: bool,
}

impl Series {
    /// A measured series (solid line with markers).
    pub fn measured(label: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series {
            label: label.into(),
            points,
            dashed: false,
        }
    }

    /// A model or ideal series (dashed line).
    pub fn model(label: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series {
            label: label.into(),
            points,
            dashed: true,
        }
    }
}

/// A chart of lines against a numeric x axis.
#[derive(Debug, Clone)]
pub struct LineChart {
    /// Title on top (French).
    pub title: String,
    /// Label of the x axis.
    pub x_label: String,
    /// Label of the y axis.
    pub y_label: String,
    /// The lines.
    pub series: Vec<Series>,
    /// Logarithmic x axis (for sweeps over orders of magnitude).
    pub log_x: bool,
}

/// A chart of labelled bars.
#[derive(Debug, Clone)]
pub struct BarChart {
    /// Title on top (French).
    pub title: String,
    /// Label of the y axis.
    pub y_label: String,
    /// Bars `(label, value)`, drawn in this order.
    pub bars: Vec<(String, f64)>,
}

fn bounds(series: &[Series]) -> ((f64, f64), (f64, f64)) {
    let pts = series.iter().flat_map(|s| s.points.iter());
    let (mut x0, mut x1, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, 0.0f64);
    for &(x, y) in pts {
        x0 = x0.min(x);
        x1 = x1.max(x);
        if y.is_finite() {
            y1 = y1.max(y);
        }
    }
    if !x0.is_finite() {
        (x0, x1) = (0.0, 1.0);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    if y1 <= 0.0 {
        y1 = 1.0;
    }
    ((x0, x1), (0.0, y1 * 1.1))
}

/// Decimals that axis labels need for values up to `top` (0 for 50, 2 for 0.9).
fn decimals(top: f64) -> usize {
    match top {
        t if t >= 20.0 => 0,
        t if t >= 2.0 => 1,
        t if t >= 0.2 => 2,
        _ => 3,
    }
}

fn draw_err<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> Error {
    Error::Other(format!("dessin du graphique impossible : {e}"))
}

impl LineChart {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, plotters::coord::Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        register_font();
        root.fill(&WHITE).map_err(draw_err)?;
        let ((x0, x1), (y0, y1)) = bounds(&self.series);
        let mut builder = ChartBuilder::on(&root);
        builder
            .caption(&self.title, ("sans-serif", 24))
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(70);
        macro_rules! finish {
            ($chart:expr) => {{
                let mut chart = $chart;
                // Few integral x values (worker counts): one tick per value.
                let xs: Vec<f64> = self
                    .series
                    .iter()
                    .flat_map(|s| s.points.iter().map(|p| p.0))
                    .collect();
                let integral = xs.iter().all(|x| x.fract() == 0.0);
                let ticks = if integral && x1 - x0 <= 16.0 {
                    (x1 - x0) as usize + 1
                } else {
                    10
                };
                chart
                    .configure_mesh()
                    .x_labels(ticks)
                    .x_label_formatter(&|v| {
                        if integral || v.fract() == 0.0 {
                            format!("{v:.0}")
                        } else {
                            crate::fr::comma(format!("{v}"))
                        }
                    })
                    .x_desc(&self.x_label)
                    .y_desc(&self.y_label)
                    .label_style(("sans-serif", 15))
                    .axis_desc_style(("sans-serif", 17))
                    .y_label_formatter(&|v| crate::fr::decimal(*v, decimals(y1)))
                    .draw()
                    .map_err(draw_err)?;
                for (i, s) in self.series.iter().enumerate() {
                    let color = PALETTE[i % PALETTE.len()];
                    let style = ShapeStyle::from(color).stroke_width(if s.dashed { 2 } else { 3 });
                    if s.dashed {
                        chart
                            .draw_series(DashedLineSeries::new(
                                s.points.iter().copied(),
                                10,
                                6,
                                style,
                            ))
                            .map_err(draw_err)?
                            .label(s.label.as_str())
                            .legend(move |(x, y)| {
                                PathElement::new(vec![(x, y), (x + 20, y)], style)
                            });
                    } else {
                        chart
                            .draw_series(LineSeries::new(s.points.iter().copied(), style))
                            .map_err(draw_err)?
                            .label(s.label.as_str())
                            .legend(move |(x, y)| {
                                PathElement::new(vec![(x, y), (x + 20, y)], style)
                            });
                        chart
                            .draw_series(
                                s.points.iter().map(|&p| Circle::new(p, 4, color.filled())),
                            )
                            .map_err(draw_err)?;
                    }
                }
                chart
                    .configure_series_labels()
                    .position(SeriesLabelPosition::UpperLeft)
                    .label_font(("sans-serif", 15))
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK.mix(0.4))
                    .draw()
                    .map_err(draw_err)?;
            }};
        }
        if self.log_x {
            finish!(builder
                .build_cartesian_2d((x0.max(1e-9)..x1).log_scale(), y0..y1)
                .map_err(draw_err)?);
        } else {
            finish!(builder
                .build_cartesian_2d(x0..x1, y0..y1)
                .map_err(draw_err)?);
        }
        root.present().map_err(draw_err)?;
        Ok(())
    }

    /// The chart as an SVG document (what the notebook displays inline).
    pub fn to_svg(&self) -> Result<String> {
        let mut svg = String::new();
        self.draw(SVGBackend::with_string(&mut svg, SIZE).into_drawing_area())?;
        Ok(svg)
    }

    /// Writes `stem.png` and `stem.svg` in `dir`, atomically; returns both paths.
    pub fn save(&self, dir: &Path, stem: &str) -> Result<Vec<PathBuf>> {
        save_both(
            dir,
            stem,
            |p| self.draw(BitMapBackend::new(p, SIZE).into_drawing_area()),
            self.to_svg()?,
        )
    }
}

/// Ratio of the tallest to the shortest bar above which a [`BarChart`] draws its
/// values on a logarithmic axis: beside a 140 ms bar, a 0,2 ms one would be an
/// invisible line on a linear axis.
pub const LOG_SCALE_RATIO: f64 = 30.0;

/// Whether bars of these values need a logarithmic value axis: at least two
/// positive values, the largest more than [`LOG_SCALE_RATIO`] times the smallest.
pub fn needs_log_scale(values: &[f64]) -> bool {
    let positive = || values.iter().copied().filter(|v| v.is_finite() && *v > 0.0);
    if positive().count() < 2 {
        return false;
    }
    let lo = positive().fold(f64::INFINITY, f64::min);
    let hi = positive().fold(0.0f64, f64::max);
    hi / lo > LOG_SCALE_RATIO
}

/// The label of a value on a logarithmic axis or above a bar: as many decimals as
/// its size needs ("140", "1,5", "0,2", "0,004").
fn value_label(v: f64) -> String {
    if v >= 20.0 || v <= 0.0 || !v.is_finite() {
        return fr::decimal(v, 0);
    }
    let digits = (1 - v.log10().floor() as i32).clamp(1, 4) as usize;
    let s = fr::decimal(v, digits);
    // "1,50" → "1,5", "2,0" → "2".
    let s = s.trim_end_matches('0');
    s.trim_end_matches(',').to_string()
}

impl BarChart {
    /// The y-axis label, with the scale named when it is logarithmic.
    fn axis_label(&self, log: bool) -> String {
        if log {
            format!("{} (échelle logarithmique)", self.y_label)
        } else {
            self.y_label.clone()
        }
    }

    /// The chart's frame: title, margins and label areas.
    fn builder<'a, 'b, DB: DrawingBackend>(
        &'b self,
        root: &'a DrawingArea<DB, plotters::coord::Shift>,
    ) -> ChartBuilder<'a, 'b, DB> {
        let mut b = ChartBuilder::on(root);
        b.caption(&self.title, ("sans-serif", 24))
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(80);
        b
    }

    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, plotters::coord::Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        register_font();
        root.fill(&WHITE).map_err(draw_err)?;
        let values: Vec<f64> = self.bars.iter().map(|b| b.1).collect();
        let log = needs_log_scale(&values);
        let top = values.iter().copied().fold(0.0f64, f64::max).max(1e-12);
        // Bar i spans [i - 0.4, i + 0.4] on a numeric axis; its label is drawn under
        // it by hand (plotters picks its own tick positions, which may skip bars).
        let x_range = -0.5..(self.bars.len().max(1) as f64 - 0.5);
        if log {
            // The power of ten below half the shortest bar: it stays visible, and the
            // axis starts on a labelled tick.
            let shortest = values
                .iter()
                .copied()
                .filter(|v| *v > 0.0)
                .fold(f64::INFINITY, f64::min);
            let bottom = 10f64.powf((shortest / 2.0).log10().floor());
            let chart = self
                .builder(&root)
                .build_cartesian_2d(x_range, (bottom..top * 3.0).log_scale())
                .map_err(draw_err)?;
            self.finish(&root, chart, bottom, true, &|v| value_label(*v))
        } else {
            let chart = self
                .builder(&root)
                .build_cartesian_2d(x_range, 0.0..top * 1.15)
                .map_err(draw_err)?;
            let digits = decimals(top * 1.15);
            self.finish(&root, chart, 0.0, false, &|v| fr::decimal(*v, digits))
        }
    }

    /// Draws the mesh, the bars from `bottom`, their values above them and their
    /// labels under them, on a chart whose value axis is linear or logarithmic.
    fn finish<DB, Y>(
        &self,
        root: &DrawingArea<DB, plotters::coord::Shift>,
        mut chart: ChartContext<'_, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>,
        bottom: f64,
        log: bool,
        y_format: &dyn Fn(&f64) -> String,
    ) -> Result<()>
    where
        DB: DrawingBackend,
        DB::ErrorType: 'static,
        Y: Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
    {
        let y_desc = self.axis_label(log);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_desc(&y_desc)
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 17))
            .y_label_formatter(y_format)
            .draw()
            .map_err(draw_err)?;
        chart
            .draw_series(self.bars.iter().enumerate().map(|(i, (_, v))| {
                let color = PALETTE[i % PALETTE.len()];
                let x = i as f64;
                Rectangle::new(
                    [(x - 0.4, bottom), (x + 0.4, v.max(bottom))],
                    color.filled(),
                )
            }))
            .map_err(draw_err)?;
        let anchored = |v| {
            TextStyle::from(("sans-serif", 15).into_font()).pos(
                plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Center,
                    v,
                ),
            )
        };
        let (under, above) = (
            anchored(plotters::style::text_anchor::VPos::Top),
            anchored(plotters::style::text_anchor::VPos::Bottom),
        );
        for (i, (label, v)) in self.bars.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(i as f64, bottom));
            root.draw(&Text::new(label.clone(), (x, y + 8), under.clone()))
                .map_err(draw_err)?;
            let (x, y) = chart.backend_coord(&(i as f64, v.max(bottom)));
            root.draw(&Text::new(value_label(*v), (x, y - 4), above.clone()))
                .map_err(draw_err)?;
        }
        root.present().map_err(draw_err)?;
        Ok(())
    }

    /// The chart as an SVG document.
    pub fn to_svg(&self) -> Result<String> {
        let mut svg = String::new();
        self.draw(SVGBackend::with_string(&mut svg, SIZE).into_drawing_area())?;
        Ok(svg)
    }

    /// Writes `stem.png` and `stem.svg` in `dir`, atomically; returns both paths.
    pub fn save(&self, dir: &Path, stem: &str) -> Result<Vec<PathBuf>> {
        save_both(
            dir,
            stem,
            |p| self.draw(BitMapBackend::new(p, SIZE).into_drawing_area()),
            self.to_svg()?,
        )
    }
}

/// Bars under a threshold drawn in a second colour, with a legend that says so.
#[derive(Debug, Clone)]
pub struct Highlight {
    /// Bars strictly below this value get the second colour.
    pub below: f64,
    /// Legend of the highlighted bars (French), e.g. « moins de 50 % de réussite ».
    pub label: String,
    /// Legend of the other bars (French).
    pub other_label: String,
}

/// A chart of labelled horizontal bars on a fixed scale, one row per bar, top to
/// bottom in the given order: what a teacher reads at a glance when there are dozens
/// of bars (the pass rate of each question of a class). The value axis always runs
/// from 0 to [`HorizontalBarChart::max`] (100 for a percentage, whatever the data),
/// the label of each row sits on its left, its value at the end of its bar, and the
/// image grows with the number of rows so that labels never overlap.
#[derive(Debug, Clone)]
pub struct HorizontalBarChart {
    /// Title on top (French).
    pub title: String,
    /// Label of the value axis (French).
    pub x_label: String,
    /// Bars `(label, value)`, drawn top to bottom in this order.
    pub bars: Vec<(String, f64)>,
    /// The end of the value axis (the axis starts at 0); values are clamped to it.
    pub max: f64,
    /// Unit written after every value and tick, e.g. `"%"` (empty for none).
    pub unit: String,
    /// Rows before which a thin separator line is drawn (e.g. where an exercise
    /// starts), as indices into `bars`.
    pub separators: Vec<usize>,
    /// An optional second colour for the bars under a threshold.
    pub highlight: Option<Highlight>,
}

/// Height of one row of a [`HorizontalBarChart`], in pixels: a 14 px label with
/// room to breathe.
pub const ROW_HEIGHT: u32 = 22;
const HBAR_WIDTH: u32 = 900;
const HBAR_HEADER: u32 = 70;
const HBAR_FOOTER: u32 = 60;
/// The colour of flagged bars (vermillion: told apart from the blue by colour-blind
/// readers too).
const HBAR_FLAG: RGBColor = PALETTE[1];

impl HorizontalBarChart {
    /// The image size: a fixed width, and a height that grows with the rows.
    pub fn size(&self) -> (u32, u32) {
        let rows = self.bars.len().max(1) as u32;
        (
            HBAR_WIDTH,
            HBAR_HEADER + rows * ROW_HEIGHT + HBAR_FOOTER + 16,
        )
    }

    /// A value with its unit, in French (`67 %`, `33,3 %`).
    fn value_text(&self, v: f64) -> String {
        let digits = if (v - v.round()).abs() < 0.05 { 0 } else { 1 };
        let n = fr::decimal(v, digits);
        if self.unit.is_empty() {
            n
        } else {
            format!("{n} {}", self.unit)
        }
    }

    fn color_of(&self, v: f64) -> RGBColor {
        match &self.highlight {
            Some(h) if v < h.below => HBAR_FLAG,
            _ => PALETTE[0],
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, plotters::coord::Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        use plotters::style::text_anchor::{HPos, Pos, VPos};
        register_font();
        root.fill(&WHITE).map_err(draw_err)?;
        let max = if self.max.is_finite() && self.max > 0.0 {
            self.max
        } else {
            1.0
        };
        let n = self.bars.len();
        let rows = n.max(1) as f64;
        let text = |size: f64, h: HPos, v: VPos| {
            TextStyle::from(("sans-serif", size).into_font()).pos(Pos::new(h, v))
        };
        // The header: the title, then the legend when bars are flagged.
        let width = self.size().0 as i32;
        root.draw(&Text::new(
            self.title.clone(),
            (width / 2, 10),
            text(24.0, HPos::Center, VPos::Top),
        ))
        .map_err(draw_err)?;
        if let Some(h) = &self.highlight {
            let mut x = 80;
            // The second entry only when some bar has the second colour: a legend
            // must not announce what the chart does not show.
            let flagged = self.bars.iter().any(|b| b.1 < h.below);
            let entries = [(PALETTE[0], &h.other_label), (HBAR_FLAG, &h.label)];
            for (color, label) in entries.into_iter().take(if flagged { 2 } else { 1 }) {
                root.draw(&Rectangle::new([(x, 44), (x + 14, 58)], color.filled()))
                    .map_err(draw_err)?;
                root.draw(&Text::new(
                    label.clone(),
                    (x + 20, 51),
                    text(15.0, HPos::Left, VPos::Center),
                ))
                .map_err(draw_err)?;
                x += 40 + 8 * label.chars().count() as i32;
            }
        }
        let (_, body) = root.split_vertically(HBAR_HEADER);
        let longest = self
            .bars
            .iter()
            .map(|b| b.0.chars().count())
            .max()
            .unwrap_or(0);
        let mut chart = ChartBuilder::on(&body)
            .margin_left(16)
            .margin_right(70)
            .margin_bottom(16)
            .x_label_area_size(HBAR_FOOTER)
            .y_label_area_size((16 + 9 * longest as u32).max(40))
            .build_cartesian_2d(0.0..max, 0.0..rows)
            .map_err(draw_err)?;
        let unit = self.unit.clone();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(11)
            .light_line_style(WHITE.mix(0.0))
            .x_label_formatter(&|v| {
                let n = fr::decimal(*v, decimals(max));
                if unit.is_empty() {
                    n
                } else {
                    format!("{n} {unit}")
                }
            })
            .x_desc(&self.x_label)
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 16))
            .draw()
            .map_err(draw_err)?;
        // Row i (from the top) spans y ∈ [rows - i - 1, rows - i].
        let top_of = |i: usize| rows - i as f64;
        chart
            .draw_series(self.bars.iter().enumerate().map(|(i, (_, v))| {
                let v = if v.is_finite() {
                    v.clamp(0.0, max)
                } else {
                    0.0
                };
                Rectangle::new(
                    [(0.0, top_of(i) - 0.15), (v, top_of(i) - 0.85)],
                    self.color_of(v).filled(),
                )
            }))
            .map_err(draw_err)?;
        for &i in self.separators.iter().filter(|&&i| i > 0 && i < n) {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(0.0, top_of(i)), (max, top_of(i))],
                    BLACK.mix(0.25),
                )))
                .map_err(draw_err)?;
        }
        for (i, (label, v)) in self.bars.iter().enumerate() {
            let middle = top_of(i) - 0.5;
            let (x, y) = chart.backend_coord(&(0.0, middle));
            root.draw(&Text::new(
                label.clone(),
                (x - 8, y),
                text(14.0, HPos::Right, VPos::Center),
            ))
            .map_err(draw_err)?;
            let shown = if v.is_finite() {
                v.clamp(0.0, max)
            } else {
                0.0
            };
            let (x, y) = chart.backend_coord(&(shown, middle));
            root.draw(&Text::new(
                self.value_text(*v),
                (x + 6, y),
                text(13.0, HPos::Left, VPos::Center),
            ))
            .map_err(draw_err)?;
        }
        root.present().map_err(draw_err)?;
        Ok(())
    }

    /// The chart as an SVG document.
    pub fn to_svg(&self) -> Result<String> {
        let mut svg = String::new();
        self.draw(SVGBackend::with_string(&mut svg, self.size()).into_drawing_area())?;
        Ok(svg)
    }

    /// Writes `stem.png` and `stem.svg` in `dir`, atomically; returns both paths.
    pub fn save(&self, dir: &Path, stem: &str) -> Result<Vec<PathBuf>> {
        save_both(
            dir,
            stem,
            |p| self.draw(BitMapBackend::new(p, self.size()).into_drawing_area()),
            self.to_svg()?,
        )
    }
}

/// Renders the PNG into a temporary file of the same directory then renames it, and
/// writes the SVG atomically.
fn save_both(
    dir: &Path,
    stem: &str,
    png: impl FnOnce(&Path) -> Result<()>,
    svg: String,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("création du dossier", dir, e))?;
    let png_path = dir.join(format!("{stem}.png"));
    let tmp = dir.join(format!(".tp4-{stem}-{}.png", std::process::id()));
    let drawn = png(&tmp);
    if let Err(e) = drawn {
        let _ = std::fs::remove_file(&tmp);
        return Err(png_error(&png_path, e));
    }
    std::fs::rename(&tmp, &png_path).map_err(|e| Error::io("écriture de", &png_path, e))?;
    let svg_path = dir.join(format!("{stem}.svg"));
    crate::output::write_text(&svg_path, &svg)?;
    Ok(vec![png_path, svg_path])
}

/// The error of a PNG that could not be written, naming the file. plotters reports
/// the I/O error of its image encoder only as text ("No space left on device (os
/// error 28)" inside a debug dump): a full disk is recognised there and said in
/// French like every other write of the lab.
fn png_error(png_path: &Path, e: Error) -> Error {
    let text = e.to_string();
    if text.contains("os error 28") || text.contains("No space left") {
        return Error::io(
            "écriture de",
            png_path,
            std::io::Error::from_raw_os_error(28),
        );
    }
    Error::Other(format!("{} : {text}", png_path.display()))
}

/// Prints an SVG so that the evcxr notebook kernel displays it inline.
pub fn show_in_notebook(svg: &str) {
    println!("EVCXR_BEGIN_CONTENT image/svg+xml\n{svg}\nEVCXR_END_CONTENT");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_bar_charts_write_png_and_svg() {
        let dir = tempfile::tempdir().unwrap();
        let chart = LineChart {
            title: "Accélération".into(),
            x_label: "workers".into(),
            y_label: "accélération".into(),
            series: vec![
                Series::measured("mesuré", vec![(1.0, 1.0), (2.0, 1.9)]),
                Series::model("idéal", vec![(1.0, 1.0), (2.0, 2.0)]),
            ],
            log_x: false,
        };
        let files = chart.save(dir.path(), "acc").unwrap();
        assert_eq!(files.len(), 2);
        let png = std::fs::read(&files[0]).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        let svg = std::fs::read_to_string(&files[1]).unwrap();
        assert!(svg.contains("<svg") && svg.contains("idéal"));
        let bars = BarChart {
            title: "Temps".into(),
            y_label: "s".into(),
            bars: vec![("seq".into(), 1.0), ("rayon".into(), 0.5)],
        };
        bars.save(dir.path(), "bars").unwrap();
        assert!(dir.path().join("bars.png").is_file());
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 4);
    }
}

#[cfg(test)]
mod bar_tests {
    use super::*;

    #[test]
    fn every_bar_is_labelled_and_labels_use_a_decimal_comma() {
        let svg = BarChart {
            title: "t".into(),
            y_label: "s".into(),
            bars: vec![("a".into(), 0.006), ("b".into(), 0.003)],
        }
        .to_svg()
        .unwrap();
        assert!(svg.contains("0,004"), "no French decimal label");
        let dir = tempfile::tempdir().unwrap();
        for n in 1..=4 {
            let bars = (0..n)
                .map(|i| (format!("b{i}"), 0.001 * (i + 1) as f64))
                .collect();
            let chart = BarChart {
                title: "t".into(),
                y_label: "s".into(),
                bars,
            };
            chart.save(dir.path(), &format!("b{n}")).unwrap();
            // One label per bar, a single bar included.
            let svg = chart.to_svg().unwrap();
            assert!(
                svg.contains(&format!("\nb{}\n", n - 1)) && svg.matches("\nb").count() == n,
                "n = {n}: {}",
                svg.matches("\nb").count()
            );
        }
    }
}

#[cfg(test)]
mod log_tests {
    use super::*;

    #[test]
    fn bars_over_orders_of_magnitude_get_a_log_axis() {
        // Exercise 7: 140 ms counters beside a 0,2 ms column sum.
        assert!(needs_log_scale(&[140.0, 40.0, 3.0, 0.2]));
        assert!(!needs_log_scale(&[140.0, 40.0, 10.0]));
        assert!(
            !needs_log_scale(&[30.0, 1.0]),
            "exactly the threshold stays linear"
        );
        assert!(needs_log_scale(&[30.1, 1.0]));
        // Zeros, NaN and a single bar never ask for a log axis.
        assert!(!needs_log_scale(&[0.0, 100.0]));
        assert!(!needs_log_scale(&[f64::NAN, 100.0, 50.0]));
        assert!(!needs_log_scale(&[5.0]));
        assert!(!needs_log_scale(&[]));
    }

    #[test]
    fn value_labels_have_the_decimals_they_need() {
        assert_eq!(value_label(140.0), "140");
        assert_eq!(value_label(1.5), "1,5");
        assert_eq!(value_label(2.0), "2");
        assert_eq!(value_label(0.2), "0,2");
        assert_eq!(value_label(0.0042), "0,0042");
        assert_eq!(value_label(0.0), "0");
    }

    #[test]
    fn the_axis_says_when_it_is_logarithmic() {
        let chart = |bars: Vec<(String, f64)>| BarChart {
            title: "t".into(),
            y_label: "temps médian (ms)".into(),
            bars,
        };
        let log = chart(vec![("voisins".into(), 140.0), ("SoA".into(), 0.2)])
            .to_svg()
            .unwrap();
        assert!(
            log.contains("temps médian (ms) (échelle logarithmique)"),
            "{log}"
        );
        assert!(
            log.contains("\n140\n") && log.contains("\n0,2\n"),
            "values above the bars"
        );
        let linear = chart(vec![("a".into(), 2.0), ("b".into(), 1.0)])
            .to_svg()
            .unwrap();
        assert!(!linear.contains("logarithmique"));
    }
}

#[cfg(test)]
mod horizontal_tests {
    use super::*;

    /// The value of attribute `name` in one SVG tag.
    fn attr(tag: &str, name: &str) -> Option<String> {
        let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        let len = tag[start..].find('"')?;
        Some(tag[start..start + len].to_string())
    }

    /// `(x, y, width, fill)` of every filled rectangle.
    fn rects(svg: &str) -> Vec<(f64, f64, f64, String)> {
        svg.split("<rect")
            .skip(1)
            .filter_map(|t| {
                let tag = &t[..t.find('>')?];
                Some((
                    attr(tag, "x")?.parse().ok()?,
                    attr(tag, "y")?.parse().ok()?,
                    attr(tag, "width")?.parse().ok()?,
                    attr(tag, "fill")?,
                ))
            })
            .collect()
    }

    /// `(x, anchor, text)` of every text element.
    fn texts(svg: &str) -> Vec<(f64, String, String)> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| {
                let end = t.find('>')?;
                let tag = &t[..end];
                let body = &t[end + 1..t.find("</text>")?];
                Some((
                    attr(tag, "x")?.parse().ok()?,
                    attr(tag, "text-anchor")?,
                    body.trim().to_string(),
                ))
            })
            .collect()
    }

    fn chart(bars: Vec<(String, f64)>) -> HorizontalBarChart {
        HorizontalBarChart {
            title: "Réussite par question".into(),
            x_label: "réussite (% des copies corrigées)".into(),
            bars,
            max: 100.0,
            unit: "%".into(),
            separators: vec![],
            highlight: Some(Highlight {
                below: 50.0,
                label: "moins de 50 % de réussite".into(),
                other_label: "50 % ou plus".into(),
            }),
        }
    }

    #[test]
    fn one_row_per_label_bars_proportional_to_a_fixed_axis() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for case in 0..25 {
            let n = 1 + (next() % 60) as usize;
            // Half the cases never reach 100: the axis must still end at 100 %.
            let top = if case % 2 == 0 { 100 } else { 1 + next() % 60 };
            let bars: Vec<(String, f64)> = (0..n)
                .map(|i| {
                    (
                        format!("{}.{}", i / 7, i % 7 + 1),
                        (next() % (top + 1)) as f64,
                    )
                })
                .collect();
            let c = chart(bars.clone());
            let svg = c.to_svg().unwrap();
            let ts = texts(&svg);
            // Every label once, on the left of its row (right-aligned).
            for (label, _) in &bars {
                let at: Vec<_> = ts.iter().filter(|t| &t.2 == label).collect();
                assert_eq!(at.len(), 1, "case {case}: label {label} drawn {}", at.len());
                assert_eq!(at[0].1, "end");
            }
            // The axis runs from 0 % to 100 % whatever the data.
            let tick = |s: &str| {
                ts.iter()
                    .find(|t| t.1 == "middle" && t.2 == s)
                    .unwrap_or_else(|| panic!("case {case}: no tick {s}"))
                    .0
            };
            let (x0, x100) = (tick("0 %"), tick("100 %"));
            assert!(x100 - x0 > 500.0, "case {case}: axis {x0}..{x100}");
            // One bar per value, its length proportional to the value, 100 % the
            // full axis; bars under 50 % in the second colour.
            let hex = |c: RGBColor| format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
            let bar_rects: Vec<_> = rects(&svg)
                .into_iter()
                .filter(|r| r.0 == x0.round() && r.1 >= 70.0)
                .collect();
            assert_eq!(bar_rects.len(), n, "case {case}: {bar_rects:?}");
            for ((label, v), r) in bars.iter().zip(&bar_rects) {
                let expected = v / 100.0 * (x100 - x0);
                assert!(
                    (r.2 - expected).abs() <= 1.5,
                    "case {case}: {label} = {v} drawn {} px, expected {expected}",
                    r.2
                );
                let flagged = r.3 == hex(HBAR_FLAG);
                assert!(flagged || r.3 == hex(PALETTE[0]), "{r:?}");
                assert_eq!(flagged, *v < 50.0, "case {case}: {label} = {v}");
            }
            // Top to bottom in the given order, one row apart.
            for w in bar_rects.windows(2) {
                assert!(
                    (w[1].1 - w[0].1 - ROW_HEIGHT as f64).abs() <= 1.5,
                    "case {case}: rows {} and {}",
                    w[0].1,
                    w[1].1
                );
            }
            // The value at the end of each bar, in French.
            for (_, v) in &bars {
                let shown = format!("{v:.0} %");
                assert!(
                    ts.iter().any(|t| t.1 == "start" && t.2 == shown),
                    "case {case}: no value {shown}"
                );
            }
            // The image grows with the rows: no two labels closer than a row.
            assert_eq!(c.size().1, 70 + n.max(1) as u32 * ROW_HEIGHT + 60 + 16);
        }
    }

    #[test]
    fn fractional_values_and_the_legend_are_french() {
        let svg = chart(vec![("1.1".into(), 100.0 / 3.0), ("1.2".into(), 75.0)])
            .to_svg()
            .unwrap();
        assert!(svg.contains("\n33,3 %\n"), "{svg}");
        assert!(svg.contains("\n75 %\n"));
        assert!(svg.contains("moins de 50 % de réussite") && svg.contains("50 % ou plus"));
        // A class where no bar is under the threshold: no legend entry for it.
        let all_good = chart(vec![("1.1".into(), 50.0), ("1.2".into(), 100.0)])
            .to_svg()
            .unwrap();
        assert!(all_good.contains("50 % ou plus"), "{all_good}");
        assert!(!all_good.contains("moins de 50 %"), "{all_good}");
        // No bars at all still draws an empty, valid chart.
        let empty = chart(vec![]).to_svg().unwrap();
        assert!(empty.contains("100 %"));
    }
}
