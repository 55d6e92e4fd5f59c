using System.Data;
using Dapper;
using Npgsql;
using SecureIntake.Core.Editors;

namespace SecureIntake.Core.Triage;

/// <summary>
/// A query's arguments plus the asker's <see cref="DeskScope"/>: the scope hands its desk list out as a ready
/// <see cref="NpgsqlParameter"/> (typed uuid[]), which Dapper's binding by property cannot carry, so it is added to
/// the command as it is, beside the properties of <paramref name="args"/>.
/// </summary>
internal sealed class ScopedArgs(DeskScope scope, object args) : SqlMapper.IDynamicParameters
{
    public void AddParameters(IDbCommand command, SqlMapper.Identity identity)
    {
        ArgumentNullException.ThrowIfNull(command);
        ((SqlMapper.IDynamicParameters)new DynamicParameters(args)).AddParameters(command, identity);
        var desks = new List<NpgsqlParameter>();
        scope.AddParameter(desks);
        foreach (var parameter in desks)
        {
            command.Parameters.Add(parameter);
        }
    }
}
