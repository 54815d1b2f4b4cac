import { describeCliFailure } from './cli-failure.js';

/** What execFile rejects with: an Error carrying the run's exit and output. */
function execFailure(fields: Record<string, unknown>): Error {
  return Object.assign(new Error('Command failed: rabbitmqctl -q start_app'), fields);
}

describe('describeCliFailure', () => {
  it("keeps the reason rabbitmqctl prints on the lines after its own 'Error:' line, with the exit code", () => {
    const stderr = 'Error:\n{:rabbit, {{:timeout_waiting_for_tables, :"kraken-b@10.0.0.2",\n  [:rabbit_durable_queue]}, {:rabbit_prelaunch, :start, []}}}\n';
    expect(describeCliFailure(execFailure({ code: 70, stderr, stdout: '' }), 120_000)).toBe(
      'exit code 70: Error: {:rabbit, {{:timeout_waiting_for_tables, :"kraken-b@10.0.0.2", [:rabbit_durable_queue]}, {:rabbit_prelaunch, :start, []}}}',
    );
  });

  it('uses stdout when stderr is empty', () => {
    expect(describeCliFailure(execFailure({ code: 69, stderr: '', stdout: 'Error:\nnode is down\n' }), 1_000)).toBe('exit code 69: Error: node is down');
  });

  it('says when the tool printed nothing, was killed by its timeout, or could not run', () => {
    expect(describeCliFailure(execFailure({ code: 2, stderr: '', stdout: '' }), 1_000)).toBe('exit code 2, printing nothing');
    expect(describeCliFailure(execFailure({ killed: true, signal: 'SIGTERM', code: null, stderr: '', stdout: '' }), 120_000)).toBe('killed after its 120000 ms timeout, printing nothing');
    expect(describeCliFailure(Object.assign(new Error('spawn rabbitmqctl ENOENT'), { code: 'ENOENT' }), 1_000)).toBe('could not run: ENOENT, printing nothing');
  });

  it('drops terminal styling from usage text', () => {
    const stderr = "Error: this command requires the 'rabbit' app to be stopped\n\n\u001b[1mUsage\u001b[0m\n\nrabbitmqctl join_cluster <existing_cluster_member>\n";
    expect(describeCliFailure(execFailure({ code: 64, stderr }), 1_000)).toBe(
      "exit code 64: Error: this command requires the 'rabbit' app to be stopped Usage rabbitmqctl join_cluster <existing_cluster_member>",
    );
  });

  it('cuts very long output', () => {
    const said = describeCliFailure(execFailure({ code: 70, stderr: 'x'.repeat(5_000) }), 1_000);
    expect(said.length).toBeLessThan(1_600);
    expect(said.endsWith('…')).toBe(true);
  });
});
