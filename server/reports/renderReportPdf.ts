import type { Readable } from 'node:stream';
import type { ReportDocument } from './buildReport.ts';

const MARGIN = 50;
const CHART_HEIGHT = 180;

/**
 * The report as a PDF (pdfkit): title, the chart of the daily series, then the tables. The
 * document is a Readable: it streams to storage as pages are produced. pdfkit is loaded with the
 * first report, not at start-up (README "Start-up time").
 */
export async function renderReportPdf(report: ReportDocument): Promise<Readable> {
  const { default: PDFDocument } = await import('pdfkit');
  const doc = new PDFDocument({ size: 'A4', margin: MARGIN, info: { Title: report.title, Author: 'jobwire', Subject: report.subtitle } });
  doc.font('Helvetica-Bold').fontSize(20).text(report.title);
  doc.font('Helvetica').fontSize(10).fillColor('#555555').text(report.subtitle).fillColor('black');
  doc.moveDown();
  drawBarChart(doc, report.chart);
  for (const table of report.tables) {
    if (doc.y > doc.page.height - MARGIN - 80) doc.addPage();
    doc.moveDown().font('Helvetica-Bold').fontSize(12).text(table.title, MARGIN).font('Helvetica').fontSize(9).moveDown(0.3);
    doc.table({
      position: { x: MARGIN },
      data: [table.columns.map((text) => ({ text, type: 'TH' as const, backgroundColor: '#eeeeee' })), ...table.rows],
    });
  }
  doc.end();
  return doc;
}

/** Bars of the daily series with a labelled y axis (jobs) and x axis (dates, thinned to fit). */
function drawBarChart(doc: PDFKit.PDFDocument, chart: ReportDocument['chart']): void {
  const left = MARGIN + 35;
  const width = doc.page.width - MARGIN - left;
  doc.font('Helvetica-Bold').fontSize(12).text(chart.title, MARGIN);
  const top = doc.y + 10;
  const bottom = top + CHART_HEIGHT;
  const max = niceMax(Math.max(0, ...chart.values));

  doc.font('Helvetica').fontSize(7).lineWidth(0.5);
  for (const tick of [0, max / 2, max]) {
    const y = bottom - (tick / max) * CHART_HEIGHT;
    doc.strokeColor('#dddddd').moveTo(left, y).lineTo(left + width, y).stroke();
    doc.fillColor('black').text(String(tick), MARGIN, y - 3, { width: 30, align: 'right', lineBreak: false });
  }
  doc.strokeColor('black').moveTo(left, top).lineTo(left, bottom).lineTo(left + width, bottom).stroke();

  const slot = width / Math.max(1, chart.values.length);
  chart.values.forEach((value, i) => {
    const height = (value / max) * CHART_HEIGHT;
    if (height > 0) doc.rect(left + i * slot + slot * 0.15, bottom - height, Math.max(0.5, slot * 0.7), height).fill('#3b7dd8');
  });
  const every = Math.ceil(chart.labels.length / 8);
  doc.fillColor('black');
  chart.labels.forEach((label, i) => {
    if (i % every !== 0) return;
    doc.text(label, left + i * slot + slot / 2 - 25, bottom + 4, { width: 50, align: 'center', lineBreak: false });
  });
  doc.fontSize(8).text('Jobs per day by creation date (UTC)', left, bottom + 16, { width, align: 'center' });
  doc.x = MARGIN;
  doc.y = bottom + 30;
}

/** A round axis maximum ≥ value (1, 2, 5 × 10^n), and at least 1 so an empty range still draws. */
function niceMax(value: number): number {
  if (value <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}
