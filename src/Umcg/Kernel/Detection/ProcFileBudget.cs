namespace Umcg.Kernel.Detection;

/// <summary>
/// How many workers may keep their /proc files open (two descriptors each), so that detection never eats
/// the descriptors the application needs. Used by the detector thread only.
/// </summary>
internal sealed class ProcFileBudget(int workers)
{
    private int _left = workers;

    public bool TryTake()
    {
        if (_left <= 0)
        {
            return false;
        }

        _left--;
        return true;
    }

    public void Return() => _left++;
}
