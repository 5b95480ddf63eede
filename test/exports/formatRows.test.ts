import { describe, expect, it } from 'vitest';
import { csvField, formatRows } from '../../server/exports/formatRows.ts';

describe('CSV (RFC 4180) and NDJSON formatting', () => {
  it('quotes fields with commas, quotes or line breaks, and doubles quotes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\r')).toBe('"cr\r"');
  });

  it('writes null as empty, dates as ISO 8601, objects as JSON, numbers as they are', () => {
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField(new Date('2025-01-02T03:04:05.006Z'))).toBe('2025-01-02T03:04:05.006Z');
    expect(csvField({ a: 1, b: 'x,y' })).toBe('"{""a"":1,""b"":""x,y""}"');
    expect(csvField(-5)).toBe('-5');
    expect(csvField(true)).toBe('true');
  });

  it('defuses spreadsheet formulas in strings (CSV injection)', () => {
    expect(csvField('=HYPERLINK("http://evil")')).toBe(`"'=HYPERLINK(""http://evil"")"`);
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
  });

  it('writes a header then CRLF records for CSV, one object per line for NDJSON', () => {
    const rows = [{ id: 1, name: 'a,b', extra: 'ignored' }, { id: 2 }];
    expect(formatRows('csv', ['id', 'name'], null)).toBe('id,name\r\n');
    expect(formatRows('csv', ['id', 'name'], rows)).toBe('1,"a,b"\r\n2,\r\n');
    expect(formatRows('json', ['id', 'name'], null)).toBe('');
    expect(formatRows('json', ['id', 'name'], rows)).toBe('{"id":1,"name":"a,b"}\n{"id":2,"name":null}\n');
  });
});
