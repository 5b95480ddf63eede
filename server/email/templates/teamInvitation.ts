import type { TemplateContent } from './emailContent.ts';
import { greeting, onProduct } from './format.ts';

export const teamInvitationEmail: TemplateContent<'teamInvitation'> = (data, { productName }) => {
  const { recipientName, inviterName, organizationName, invitationUrl, role } = data;
  const on = onProduct(productName);
  return {
    subject: `${inviterName} invited you to join ${organizationName}${on}`,
    preheader: `Accept the invitation to start working with ${organizationName}.`,
    heading: `Join ${organizationName}${on}`,
    paragraphs: [
      greeting(recipientName),
      role
        ? `${inviterName} has invited you to join ${organizationName}${on} as ${role}.`
        : `${inviterName} has invited you to join ${organizationName}${on}.`,
    ],
    details: [['Organization', organizationName], ['Invited by', inviterName], ['Role', role]],
    action: { label: 'Accept invitation', url: invitationUrl },
    notes: ["If you weren't expecting this invitation, you can ignore this email."],
  };
};
