import type { TemplateContent } from './emailContent.ts';
import { greeting } from './format.ts';

export const teamInvitationEmail: TemplateContent<'teamInvitation'> = (data, { productName }) => {
  const { recipientName, inviterName, organizationName, invitationUrl, role } = data;
  return {
    subject: `${inviterName} invited you to join ${organizationName} on ${productName}`,
    preheader: `Accept the invitation to start working with ${organizationName}.`,
    heading: `Join ${organizationName} on ${productName}`,
    paragraphs: [
      greeting(recipientName),
      role
        ? `${inviterName} has invited you to join ${organizationName} on ${productName} as ${role}.`
        : `${inviterName} has invited you to join ${organizationName} on ${productName}.`,
    ],
    details: [['Organization', organizationName], ['Invited by', inviterName], ['Role', role]],
    action: { label: 'Accept invitation', url: invitationUrl },
    notes: ["If you weren't expecting this invitation, you can ignore this email."],
  };
};
