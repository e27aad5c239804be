/**
 * Passwords of 8 or more characters that lists of leaked passwords put at the
 * top, and obvious variations: refused at registration and on a change,
 * compared without regard to case. (Shorter ones are refused by length.) A
 * short list on purpose: it stops the guesses an attacker tries first, and a
 * user sees why at once.
 */
const WORDS = `
password password1 password12 password123 password1234 passw0rd p@ssword p@ssw0rd passwort motdepasse contraseña
12345678 123456789 1234567890 0123456789 12341234 11111111 00000000 88888888 12344321 87654321 98765432 11223344
123123123 147258369 159753456 123qweasd 1qaz2wsx 1q2w3e4r 1q2w3e4r5t 1qazxsw2 zaq12wsx q1w2e3r4 a1b2c3d4
qwertyui qwerty12 qwerty123 qwertyuiop asdfghjk asdfasdf zxcvbnm1 qazwsxedc abcd1234 abc12345 abcdefgh
iloveyou iloveyou1 sunshine princess football baseball basketball superman batman123 starwars pokemon123
welcome1 welcome123 letmein1 letmein123 trustno1 whatever dragon123 monkey123 master123 shadow123 michael1
computer internet changeme changeme1 default1 administrator admin123 admin1234 root1234 secret123 test1234
testtest guest123 login123 access14 mustang1 jennifer jordan23 liverpool chelsea1 arsenal1 charlie1 freedom1
`;

export const COMMON_PASSWORDS: ReadonlySet<string> = new Set(WORDS.split(/\s+/).filter(Boolean));

export const isCommonPassword = (password: string): boolean => COMMON_PASSWORDS.has(password.toLowerCase());
