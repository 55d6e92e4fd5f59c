using System.Net.Http.Json;
using SecureIntake.Contracts;

namespace SecureIntake.Desk;

/// <summary>The grant and revoke calls: key packets only ever travel, never a session key or content.</summary>
internal sealed partial class DeskApiClient
{
    public Task<SubmissionKeys> KeysAsync(Guid submission, CancellationToken cancellationToken) =>
        ReadJsonAsync(() => _http.GetAsync(new Uri($"{Server}/desk/api/submissions/{submission:D}/keys"), cancellationToken), Call.List,
            ContractJson.Default.SubmissionKeys, cancellationToken);

    public async Task<KeyChangeResponse> GrantAsync(Guid submission, string item, byte[] packets, CancellationToken cancellationToken)
    {
        using var body = JsonContent.Create(new GrantRequest(Convert.ToBase64String(packets)), ContractJson.Default.GrantRequest);
        var address = new Uri($"{Server}/desk/api/submissions/{submission:D}/items/{Uri.EscapeDataString(item)}/keys");
        return await ReadJsonAsync(() => _http.PostAsync(address, body, cancellationToken), Call.List, ContractJson.Default.KeyChangeResponse, cancellationToken);
    }

    public async Task<KeyChangeResponse> RevokeAsync(Guid submission, string item, string keyId, CancellationToken cancellationToken)
    {
        using var body = JsonContent.Create(new RevokeRequest(keyId), ContractJson.Default.RevokeRequest);
        var address = new Uri($"{Server}/desk/api/submissions/{submission:D}/items/{Uri.EscapeDataString(item)}/keys/revoke");
        return await ReadJsonAsync(() => _http.PostAsync(address, body, cancellationToken), Call.List, ContractJson.Default.KeyChangeResponse, cancellationToken);
    }
}
