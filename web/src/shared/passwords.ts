// The server's password rule, as the forms state it.

export const PASSWORD_RULE = 'At least 12 characters. Common and breached passwords are refused.';
