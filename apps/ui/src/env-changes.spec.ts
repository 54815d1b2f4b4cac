import { envChangeOf, isEmptyChange, rowsOf, saveEffect } from './env-changes.js';

describe('envChangeOf', () => {
  it('changes nothing while no value is typed: stored values are never shown or sent back', () => {
    const rows = rowsOf([{ name: 'GREETING' }, { name: 'TOKEN' }]);
    expect(rows.every((row) => row.value === '')).toBe(true);
    expect(isEmptyChange(envChangeOf(rows))).toBe(true);
  });

  it('sets typed values of stored variables and new ones, and unsets removed stored ones', () => {
    const [greeting, token] = rowsOf([{ name: 'GREETING' }, { name: 'TOKEN' }]);
    const rows = [
      { ...greeting!, value: 'hi' },
      { ...token!, removed: true },
      { key: 'new-1', name: ' NEW ', value: 'x', stored: false, removed: false },
      { key: 'new-2', name: '', value: '', stored: false, removed: false },
      { key: 'new-3', name: 'GONE', value: 'y', stored: false, removed: true },
    ];
    expect(envChangeOf(rows)).toEqual({ set: [{ name: 'GREETING', value: 'hi' }, { name: 'NEW', value: 'x' }], unset: ['TOKEN'] });
  });
});

describe('saveEffect', () => {
  it('restarts a running app, keeps an errored one\'s for its next deploy, and refuses others saying why', () => {
    expect(saveEffect('RUNNING')).toEqual({ allowed: true, label: 'Save and restart' });
    expect(saveEffect('ERRORED')).toEqual({ allowed: true, label: 'Save for the next deploy' });
    expect(saveEffect('DESTROYED')).toEqual({ allowed: false, why: 'The deployment is destroyed' });
    expect(saveEffect('BUILDING_DEPLOYMENT')).toMatchObject({ allowed: false });
  });
});
