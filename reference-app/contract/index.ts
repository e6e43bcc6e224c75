/**
 * The chat's wire contract, shared by the web app, the functions and the harness: channel and
 * message names, row and change types, and the rules by which a view applies a change and
 * reconciles a history read. Pure TypeScript that imports nothing outside this folder, so a
 * browser bundle, a Lambda and Node can all use it.
 */
export * from './names.ts';
export * from './rows.ts';
export * from './view.ts';
export * from './read-back.ts';
