/**
 * Defects the service can be started with on purpose, so the harness's self-check can prove its
 * checkers catch them. None is ever on unless the option names it.
 * - 'resume-skips-first-missed': a resumed attach replays what it missed except the first message.
 */
export const REALTIME_PLANTED_DEFECTS = ['resume-skips-first-missed'] as const;
export type RealtimePlantedDefect = (typeof REALTIME_PLANTED_DEFECTS)[number];
