// Feeds the server's work-done progress ($/progress) into the status bar while keeping VS Code's own
// progress UI: the client's handler for window/workDoneProgress/create is replaced by one that
// creates the same ProgressPart, through a context that also reports to a listener.
import * as vscode from 'vscode';
import {
    LanguageClient,
    ProgressToken,
    ProgressType,
    WorkDoneProgress,
    WorkDoneProgressCreateRequest,
} from 'vscode-languageclient/node';
import type { ProgressValue } from './status';
import { ProgressPart } from 'vscode-languageclient/lib/common/progressPart';

export function watchProgress(
    client: LanguageClient,
    listener: (token: ProgressToken, value: ProgressValue) => void,
): vscode.Disposable {
    const context = {
        onProgress: (type: ProgressType<unknown>, token: string | number, handler: (p: unknown) => void) =>
            client.onProgress(type, token, (value: unknown) => {
                if (type === WorkDoneProgress.type) {
                    listener(token, value as unknown as ProgressValue);
                }
                handler(value);
            }),
        sendNotification: client.sendNotification.bind(client),
    };
    return client.onRequest(WorkDoneProgressCreateRequest.type, (params) => {
        // The part subscribes itself and disposes on "end" or cancel.
        new ProgressPart(context as never, params.token);
    });
}
