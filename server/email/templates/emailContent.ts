import type { z } from 'zod';
import type { EMAIL_TEMPLATE_DATA, EmailTemplate } from '../../../shared/email.ts';
import type { EmailBrand } from '../branding.ts';

/** A template's data as the renderer receives it: parsed, defaults applied. */
export type TemplateData<T extends EmailTemplate> = z.output<(typeof EMAIL_TEMPLATE_DATA)[T]>;

/**
 * What a template says, as plain text. The layout turns it into both the HTML and the text
 * part, so the two never drift apart and escaping happens in one place.
 */
export interface EmailContent {
  subject: string;
  /** Preview line inbox lists show after the subject; hidden in the body. */
  preheader: string;
  heading: string;
  paragraphs: string[];
  /** Label/value rows shown as a summary table; rows without a value are left out. */
  details?: [label: string, value: string | undefined][];
  action?: { label: string; url: string };
  /** Smaller print after the action: expiry notes, "if this wasn't you". */
  notes?: string[];
}

/** A template: its data and the brand in, content out. */
export type TemplateContent<T extends EmailTemplate> = (data: TemplateData<T>, brand: EmailBrand) => EmailContent;
