const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

const list = (field: string, names?: string[], offset = 0) =>
  field
    .split(',')
    .map((part) => {
      const named = (n: string) => (names && /^\d+$/.test(n) ? (names[(Number(n) - offset) % names.length] ?? n) : n);
      const [from, to] = part.split('-');
      return to !== undefined ? `${named(from!)} to ${named(to)}` : named(part);
    })
    .join(', ');

const pad = (n: string) => n.padStart(2, '0');

/**
 * A five-field cron in words ("At 09:00, Monday to Friday"). Covers the common shapes; anything
 * else is described field by field. The server's preview of the next firings is the authority.
 */
export function describeCron(cron: string): string {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5) return 'A cron has five fields: minute hour day-of-month month day-of-week';
  const [minute, hour, dom, month, dow] = fields as [string, string, string, string, string];
  let time: string;
  if (minute === '*' && hour === '*') time = 'Every minute';
  else if (/^\*\/\d+$/.test(minute) && hour === '*') time = `Every ${minute.slice(2)} minutes`;
  else if (/^\d+$/.test(minute) && hour === '*') time = `At minute ${minute} of every hour`;
  else if (/^\d+$/.test(minute) && /^\*\/\d+$/.test(hour)) time = `At minute ${minute} of every ${hour.slice(2)} hours`;
  else if (/^\d+$/.test(minute) && /^\d+(,\d+)*$/.test(hour)) time = `At ${hour.split(',').map((h) => `${pad(h)}:${pad(minute)}`).join(', ')}`;
  else time = `At minute ${list(minute)} past hour ${list(hour)}`;
  const parts = [time];
  if (dom !== '*') parts.push(`on day ${list(dom)} of the month`);
  if (month !== '*') parts.push(`in ${list(month, MONTHS, 1)}`);
  if (dow !== '*') parts.push(`on ${list(dow.replace(/\b7\b/g, '0'), DAYS)}`);
  if (dom === '*' && month === '*' && dow === '*' && !time.startsWith('Every') && !time.includes('every')) parts.push('every day');
  return parts.join(', ');
}
