namespace SecureIntake.Desk.Scrub;

/// <summary>The file could not be read well enough to be cleaned; the message says why, for the report.</summary>
internal sealed class NotCleanedException(string message) : Exception(message);

/// <summary>What one cleaner removed, in the order it met each kind, with how many of each.</summary>
internal sealed class ScrubLog
{
    private readonly List<(string What, int Count)> _removed = [];
    private readonly List<string> _notes = [];

    public IEnumerable<string> Removed => _removed.Select(entry => entry.Count == 1 ? entry.What : $"{entry.What} (x{entry.Count})");

    public IReadOnlyList<string> Notes => _notes;

    public bool RemovedAnything => _removed.Count > 0;

    public void Remove(string what, int count = 1)
    {
        if (count <= 0)
        {
            return;
        }

        var index = _removed.FindIndex(entry => entry.What == what);
        if (index < 0)
        {
            _removed.Add((what, count));
        }
        else
        {
            _removed[index] = (what, _removed[index].Count + count);
        }
    }

    public void Note(string note)
    {
        if (!_notes.Contains(note))
        {
            _notes.Add(note);
        }
    }
}
