import type { TemplateContent } from './emailContent.ts';

export const teamInvitationEmail: TemplateContent<'teamInvitation'> = ({ inviterName, teamName, inviteUrl, role }, { productName }) => ({
  subject: `${inviterName} invited you to join ${teamName} on ${productName}`,
  preheader: `Accept the invitation to start working with ${teamName}.`,
  heading: `Join ${teamName} on ${productName}`,
  paragraphs: [
    role
      ? `${inviterName} has invited you to join the ${teamName} team on ${productName} as ${role}.`
      : `${inviterName} has invited you to join the ${teamName} team on ${productName}.`,
  ],
  details: [['Team', teamName], ['Invited by', inviterName], ['Role', role]],
  action: { label: 'Accept invitation', url: inviteUrl },
  notes: ["If you weren't expecting this invitation, you can ignore this email."],
});
