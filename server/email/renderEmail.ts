import type { EmailTemplate, SendEmailPayload } from '../../shared/email.ts';
import { DEFAULT_BRAND, type EmailBrand } from './branding.ts';
import type { TemplateContent, TemplateData } from './templates/emailContent.ts';
import { emailChangeEmail } from './templates/emailChange.ts';
import { passwordChangedEmail } from './templates/passwordChanged.ts';
import { passwordResetEmail } from './templates/passwordReset.ts';
import { paymentFailedEmail } from './templates/paymentFailed.ts';
import { renderLayout, type RenderedEmail } from './templates/renderLayout.ts';
import { subscriptionCreatedEmail } from './templates/subscriptionCreated.ts';
import { teamInvitationEmail } from './templates/teamInvitation.ts';
import { welcomeEmail } from './templates/welcome.ts';

export type { RenderedEmail };

/** One template per catalogue entry: a missing or extra template is a compile error. */
const TEMPLATES: { readonly [T in EmailTemplate]: TemplateContent<T> } = {
  welcome: welcomeEmail,
  passwordReset: passwordResetEmail,
  passwordChanged: passwordChangedEmail,
  emailChange: emailChangeEmail,
  teamInvitation: teamInvitationEmail,
  subscriptionCreated: subscriptionCreatedEmail,
  paymentFailed: paymentFailedEmail,
};

// Generic over T so indexing the mapped record keeps template and data correlated (TS #47109).
function contentOf<T extends EmailTemplate>(template: T, data: TemplateData<T>, brand: EmailBrand) {
  return TEMPLATES[template](data, brand);
}

/** Renders a parsed `send-email` payload to its subject, HTML and plain-text parts. */
export function renderEmail(payload: SendEmailPayload, brand: EmailBrand = DEFAULT_BRAND): RenderedEmail {
  return renderLayout(contentOf(payload.template, payload.data, brand), brand);
}
